// Reference METRICS scores computed by the official calculator's own code; this file holds none
// of it. The calculator is one page, METRICS.html, in GitHub metricsscore/metrics ("METRICS
// Tool v1.0", commit 8772ec6); get it with
//   git clone https://github.com/metricsscore/metrics && git -C metrics checkout 8772ec6
// and run
//   node tests/results/metrics_calculator.js /path/to/metrics/METRICS.html \
//     > tests/results/metrics_calculator.csv
// The page's inline scripts run in node's vm with a stub of the few DOM calls calculateScore()
// makes: it reads each item's checked radio button with
// document.querySelector('input[name=itemN]:checked').value ("yes"/"no"; none checked = the item
// is left out), and writes the rounded score to #score ("34.8%") and the band to
// #scorecategory. The radio buttons are the page's own (name and value read from its HTML).
// score_unrounded is the number the page passes to toFixed(1), recorded on the way.
// Answers: y = yes, n = no, - = not answered (n/a: an item its conditions disabled).
'use strict';
const fs = require('fs');
const vm = require('vm');

const page = process.argv[2];
if (!page) {
  console.error('usage: node metrics_calculator.js /path/to/METRICS.html > metrics_calculator.csv');
  process.exit(2);
}
const html = fs.readFileSync(page, 'utf8');

// The page's radio buttons: <input type="radio" name="item7" value="yes">.
const radios = [];
for (const [tag] of html.matchAll(/<input\b[^>]*>/gi)) {
  const attr = (a) => (tag.match(new RegExp(`\\b${a}\\s*=\\s*"([^"]*)"`, 'i')) || [])[1];
  if ((attr('type') || '').toLowerCase() === 'radio') {
    radios.push({ name: attr('name'), value: attr('value'), checked: false });
  }
}

// The smallest document calculateScore() runs against; anything else it asked for would throw.
const shown = { score: { innerHTML: '' }, scorecategory: { innerHTML: '' } };
const document = {
  getElementById(id) {
    if (!(id in shown)) throw new Error(`the stub has no element #${id}`);
    return shown[id];
  },
  querySelector(selector) {
    const m = selector.match(/^input\[name=([\w.]+)\]:checked$/);
    if (!m) throw new Error(`the stub cannot answer querySelector('${selector}')`);
    return radios.find((r) => r.name === m[1] && r.checked) || null;
  },
};
const context = vm.createContext({ document, window: { addEventListener() {} } });

// Every inline script of the page, in page order (the xlsx library it loads by src is not needed).
for (const [, attrs, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  if (!/\bsrc\s*=/i.test(attrs)) vm.runInContext(body, context, { filename: page });
}
if (typeof context.calculateScore !== 'function') throw new Error(`no calculateScore() in ${page}`);

// Record the number the page rounds with toFixed(1) (its unrounded score).
const passed = [];
vm.runInContext(`(function (record) {
  const toFixed = Number.prototype.toFixed;
  Number.prototype.toFixed = function (digits) { record(Number(this)); return toFixed.call(this, digits); };
})`, context)((x) => passed.push(x));

const code = { y: 'yes', n: 'no', '-': null };
function score(vector) {
  for (const r of radios) r.checked = false;
  [...vector].forEach((c, i) => {
    if (code[c] === null) return;
    const radio = radios.find((r) => r.name === `item${i + 1}` && r.value === code[c]);
    if (!radio) throw new Error(`the page has no radio button item${i + 1} = ${code[c]}`);
    radio.checked = true;
  });
  passed.length = 0;
  context.calculateScore();
  if (passed.length !== 1) throw new Error(`calculateScore() called toFixed ${passed.length} times`);
  return [passed[0], shown.score.innerHTML.replace(/%$/, ''), shown.scorecategory.innerHTML];
}

// A fixed linear congruential generator: the same vectors on every run.
let seed = 20240117;
function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; }
const vectors = ['y'.repeat(30), 'y'.repeat(7) + 'n'.repeat(23), 'n'.repeat(30),
  'ynyyyynnynynnyyynyyyyyynynynnn'];
while (vectors.length < 300) {
  const p = rnd();
  let v = '';
  for (let i = 0; i < 30; i++) { const r = rnd(); v += r < p ? 'y' : (r < 0.93 ? 'n' : '-'); }
  vectors.push(v);
}
console.log('answers,score_unrounded,score,band');
for (const v of vectors) {
  const [raw, rounded, band] = score(v);
  console.log(`${v},${raw.toPrecision(17)},${rounded},${band}`);
}
