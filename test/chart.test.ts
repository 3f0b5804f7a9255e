// The chart's colour contrast (webview/chart.ts), in plain Node: colour parsing, WCAG contrast, and the
// series colour that ensureContrast picks from a theme's variables. The theme values are VS Code's
// built-in ones (Light Modern, Dark Modern, High Contrast, High Contrast Light); the screenshots that
// show them, and the contrast measured on them, come from test/vscode.test.ts ('@screenshots').

import * as assert from 'assert';
import { SERIES_CONTRAST, contrastRatio, ensureContrast, parseColor } from '../webview/chart';

const ratio = (a: string, b: string) => contrastRatio(parseColor(a)!, parseColor(b)!);

describe('chart colours', () => {
  it('parses the forms theme variables and canvases use', () => {
    assert.deepStrictEqual(parseColor('#D18616'), { r: 0xd1, g: 0x86, b: 0x16, a: 1 });
    assert.deepStrictEqual(parseColor(' #fff '), { r: 255, g: 255, b: 255, a: 1 });
    assert.deepStrictEqual(parseColor('#00000080'), { r: 0, g: 0, b: 0, a: 128 / 255 });
    assert.deepStrictEqual(parseColor('rgba(10, 20, 30, 0.5)'), { r: 10, g: 20, b: 30, a: 0.5 });
    assert.deepStrictEqual(parseColor('rgb(10 20 30 / 50%)'), { r: 10, g: 20, b: 30, a: 0.5 });
    assert.strictEqual(parseColor('var(--x)'), null);
    assert.strictEqual(parseColor('#12345'), null);
  });

  it('computes WCAG contrast ratios', () => {
    assert.ok(Math.abs(ratio('#000000', '#ffffff') - 21) < 1e-9);
    assert.ok(Math.abs(ratio('#777777', '#777777') - 1) < 1e-9);
    // VS Code's charts.orange on Light Modern's editor: the pale validation curve of issue 8.
    assert.ok(Math.abs(ratio('#D18616', '#FFFFFF') - 2.95) < 0.02, String(ratio('#D18616', '#FFFFFF')));
  });

  // VS Code 1.139's values, read from the panel in each theme (charts.orange is not set in the high
  // contrast themes: the chart falls back to the foreground there).
  const themes = [
    { name: 'Light Modern', bg: '#FFFFFF', orange: 'rgba(234, 92, 0, 0.33)', blue: '#0063D3' },
    { name: 'Dark Modern', bg: '#1F1F1F', orange: 'rgba(234, 92, 0, 0.33)', blue: '#59A4F9' },
    { name: 'High Contrast', bg: '#000000', orange: '#FFFFFF', blue: '#59A4F9' },
    { name: 'High Contrast Light', bg: '#FFFFFF', orange: '#292929', blue: '#0063D3' },
    { name: 'an older theme', bg: '#FFFFFF', orange: '#D18616', blue: '#1A85FF' },
  ];

  for (const t of themes) {
    it(`every series colour has at least ${SERIES_CONTRAST}:1 against the background in ${t.name}`, () => {
      for (const c of [t.orange, t.blue]) {
        const drawn = ensureContrast(c, t.bg);
        assert.ok(ratio(drawn, t.bg) >= SERIES_CONTRAST, `${c} → ${drawn}: ${ratio(drawn, t.bg).toFixed(2)}:1`);
      }
    });
  }

  it('keeps a colour that already stands out, and only deepens one that does not as far as needed', () => {
    assert.strictEqual(ensureContrast('#D18616', '#1F1F1F'), '#D18616');
    const light = ensureContrast('#D18616', '#FFFFFF');
    assert.notStrictEqual(light, '#D18616');
    const c = parseColor(light)!;
    assert.ok(c.r > c.g && c.g > c.b, `${light} is no longer orange`);
    assert.ok(ratio(light, '#FFFFFF') < SERIES_CONTRAST + 1, `${light} went further toward black than needed`);
    // On a dark background a too-dark colour is lightened.
    const dark = ensureContrast('#652D90', '#1F1F1F');
    assert.ok(ratio(dark, '#1F1F1F') >= SERIES_CONTRAST && ratio(dark, '#1F1F1F') < SERIES_CONTRAST + 1, dark);
  });

  it('a translucent theme colour is drawn opaque, in its own hue; what cannot be parsed is left alone', () => {
    // VS Code 1.139's charts.orange, a fill colour: pale as a line on Light Modern, dim on Dark Modern.
    const orange = 'rgba(234, 92, 0, 0.33)';
    assert.strictEqual(ensureContrast(orange, '#1F1F1F'), '#ea5c00');
    const onWhite = parseColor(ensureContrast(orange, '#FFFFFF'))!;
    assert.ok(contrastRatio(onWhite, parseColor('#FFFFFF')!) >= SERIES_CONTRAST);
    assert.ok(onWhite.r > 2 * onWhite.g && onWhite.b < 10, `${JSON.stringify(onWhite)} is no longer orange`);
    assert.strictEqual(ensureContrast('CanvasText', '#FFFFFF'), 'CanvasText');
  });
});
