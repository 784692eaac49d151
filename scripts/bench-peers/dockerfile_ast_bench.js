// Times the npm dockerfile-ast package on a folder of Dockerfiles (per file, in memory),
// for comparison with strata's parse benchmark on the same files.
const fs = require("fs");
const path = require("path");
const { DockerfileParser } = require("dockerfile-ast");

const folder = process.argv[2];
const texts = fs.readdirSync(folder).sort().map((n) => fs.readFileSync(path.join(folder, n), "utf8"));
let best = Infinity;
let froms = 0;
for (let round = 0; round < 3; round++) {
  const start = process.hrtime.bigint();
  froms = 0;
  for (const text of texts) {
    froms += DockerfileParser.parse(text).getFROMs().length;
  }
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3);
}
console.log(`dockerfile-ast (npm)     ${(best / texts.length).toFixed(2).padStart(8)} µs/file  (${texts.length} files, ${froms} FROM instructions)`);
