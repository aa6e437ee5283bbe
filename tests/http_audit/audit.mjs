// Runs graphql-http's server audits against a running crmgraph and prints one JSON report.
// Usage: node audit.mjs http://127.0.0.1:PORT/api/graphql
// Exit status: 0 when every audit is "ok", 1 when any is an error, warning or notice.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    entry.responseStatus = result.response.status;
    entry.responseBody = await result.response.text().catch(() => '');
  }
  results.push(entry);
}

const count = (status) => results.filter((r) => r.status === status).length;
const summary = {
  total: results.length,
  ok: count('ok'),
  notices: count('notice'),
  warnings: count('warn'),
  errors: count('error'),
};
console.log(JSON.stringify({ summary, results }, null, 2));
process.exit(summary.ok === summary.total ? 0 : 1);
