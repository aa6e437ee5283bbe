"""Building read models from rows without their dataclass ``__init__``.

A frozen dataclass sets each field through ``object.__setattr__``: for a contact with its
organization that was most of the time spent turning a row into objects (1.34 µs per
contact). A builder made here sets the slots directly, from all fields in order, and
gives an equal object (0.77 µs). Only for slotted, frozen dataclasses without
``__post_init__``, whose ``__init__`` does nothing but store its arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def slot_builder(cls: type[T]) -> Callable[..., T]:
    """``build(*values)``: an instance of ``cls`` with every field, in declaration order."""
    if not is_dataclass(cls) or not hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} does more than store its fields")
    names = [field.name for field in fields(cls)]
    setters = {f"set_{name}": getattr(cls, name).__set__ for name in names}
    body = "".join(f"    set_{name}(obj, {name})\n" for name in names)
    source = f"def build({', '.join(names)}):\n    obj = new(cls)\n{body}    return obj\n"
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, **setters}
    exec(compile(source, f"<builder of {cls.__name__}>", "exec"), namespace)
    build: Callable[..., T] = namespace["build"]
    return build
