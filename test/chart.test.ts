// The chart's colour contrast (webview/chart.ts), in plain Node: colour parsing, WCAG contrast, and the
// series colour that ensureContrast picks from a theme's variables. The theme values are VS Code's
// built-in ones (Light Modern, Dark Modern, High Contrast, High Contrast Light); the screenshots that
// show them are taken by test/vscode.test.ts ('@screenshots').

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

  const themes = [
    { name: 'Light Modern', bg: '#FFFFFF', fg: '#3B3B3B', orange: '#D18616', blue: '#1A85FF' },
    { name: 'Dark Modern', bg: '#1F1F1F', fg: '#CCCCCC', orange: '#D18616', blue: '#3794FF' },
    { name: 'High Contrast', bg: '#000000', fg: '#FFFFFF', orange: '#D18616', blue: '#3794FF' },
    { name: 'High Contrast Light', bg: '#FFFFFF', fg: '#292929', orange: '#D18616', blue: '#1A85FF' },
  ];

  for (const t of themes) {
    it(`every series colour has at least ${SERIES_CONTRAST}:1 against the background in ${t.name}`, () => {
      for (const c of [t.orange, t.blue]) {
        const drawn = ensureContrast(c, t.bg, t.fg);
        assert.ok(ratio(drawn, t.bg) >= SERIES_CONTRAST, `${c} → ${drawn}: ${ratio(drawn, t.bg).toFixed(2)}:1`);
      }
    });
  }

  it('keeps a colour that already stands out, and only deepens one that does not as far as needed', () => {
    assert.strictEqual(ensureContrast('#D18616', '#1F1F1F', '#CCCCCC'), '#D18616');
    const light = ensureContrast('#D18616', '#FFFFFF', '#3B3B3B');
    assert.notStrictEqual(light, '#D18616');
    const c = parseColor(light)!;
    assert.ok(c.r > c.g && c.g > c.b, `${light} is no longer orange`);
    assert.ok(ratio(light, '#FFFFFF') < SERIES_CONTRAST + 1, `${light} went further toward the foreground than needed`);
  });

  it('a translucent colour counts as drawn over the background; what cannot be parsed is left alone', () => {
    assert.ok(ratio(ensureContrast('#D1861640', '#FFFFFF', '#3B3B3B'), '#FFFFFF') >= SERIES_CONTRAST);
    assert.strictEqual(ensureContrast('CanvasText', '#FFFFFF', '#3B3B3B'), 'CanvasText');
  });
});
