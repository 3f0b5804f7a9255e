// The extension's corpus decisions without VS Code: .gitignore semantics (checked against git itself
// where git is installed), files.exclude-style glob matching, the secret and lock file names that are
// never read, the shared join format, and the deterministic corpus size cap.

import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SKIP_REASON, decodeFileText, joinFileTexts, skipReason } from '../kernels/corpusRules';
import {
  GitignoreFile,
  GitignoreSet,
  IGNORED_BY_GIT,
  ListedFile,
  SYMBOLIC_LINK,
  assembleCorpus,
  corpusCapReason,
  excludeGlobs,
  excludeMatcher,
  findFilesExclude,
  globToRegExp,
  pathSkipReason,
  planCorpus,
  summarizeSkipped,
} from '../kernels/corpusPlan';
import { Rng } from '../kernels/rng';
import { skipOrFailUnderCI } from './ci';

describe('corpus plan', () => {
  describe('.gitignore', () => {
    const files: GitignoreFile[] = [
      { dir: '', content: '# comment\nbuild/\n/x\n**/y\n*.log\n!keep.log\nout/\n!out/keep.js\n' },
      { dir: 'sub', content: '!build/\n*.tmp\n/local\ndocs/*.md\n' },
      { dir: 'sub/deep', content: '\uFEFF!a.tmp\r\n' },
    ];
    const set = new GitignoreSet(files);
    const cases: [string, boolean][] = [
      ['build/a.js', true], // a directory pattern ignores the folder
      ['lib/build/a.js', true], // at any depth
      ['build', false], // but not a file of that name
      ['x', true], // anchored to the root
      ['x/z.js', true],
      ['sub/x', false],
      ['y', true], // **/y: at any depth, file or folder
      ['a/b/y', true],
      ['a/y/z.js', true],
      ['a.log', true],
      ['keep.log', false], // negation in the same file
      ['sub/keep.log', false],
      ['out/a.js', true],
      ['out/keep.js', true], // nothing in an ignored folder can be re-included
      ['sub/build/a.js', false], // a deeper .gitignore re-includes the folder
      ['sub/build/b.log', true], // and the root's other rules still apply inside it
      ['sub/c.tmp', true], // nested rules apply under their folder
      ['c.tmp', false], // and only there
      ['sub/deep/a.tmp', false], // the deepest file wins
      ['sub/deep/b.tmp', true],
      ['sub/local', true], // anchored to sub/
      ['sub/deep/local', false],
      ['sub/docs/a.md', true], // a middle slash anchors too
      ['sub/deep/docs/a.md', false],
      ['src/main.ts', false],
    ];
    for (const [p, ignored] of cases) {
      it(`${p} is ${ignored ? '' : 'not '}ignored`, () => assert.strictEqual(set.ignores(p), ignored));
    }

    it('folders with glob characters in their names are taken literally', () => {
      const s = new GitignoreSet([{ dir: 'a[1]*', content: 'x\n' }, { dir: '#b', content: '/y\n' }]);
      assert.strictEqual(s.ignores('a[1]*/x'), true);
      assert.strictEqual(s.ignores('a1z/x'), false);
      assert.strictEqual(s.ignores('#b/y'), true);
    });

    it('agrees with git ls-files on the same tree', function () {
      if (spawnSync('git', ['--version']).status !== 0) skipOrFailUnderCI(this, 'git is not on PATH (the reference for .gitignore matching): apt-get install git');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatescope-gitignore-'));
      try {
        // No user or system configuration: only the .gitignore files count.
        const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, GIT_CONFIG_NOSYSTEM: '1' };
        assert.strictEqual(spawnSync('git', ['init', '-q'], { cwd: dir, env }).status, 0);
        for (const f of files) {
          fs.mkdirSync(path.join(dir, f.dir), { recursive: true });
          fs.writeFileSync(path.join(dir, f.dir, '.gitignore'), f.content);
        }
        // A path cannot be both a file and a folder: leave out the files that other cases need as folders.
        const onDisk = cases.map(([p]) => p).filter((p) => !cases.some(([q]) => q.startsWith(p + '/')));
        for (const p of onDisk) {
          fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
          fs.writeFileSync(path.join(dir, p), 'x');
        }
        const r = spawnSync('git', ['-c', 'core.ignorecase=false', 'ls-files', '-o', '-i', '--exclude-standard', '-z'], { cwd: dir, env, encoding: 'utf8' });
        assert.strictEqual(r.status, 0, r.stderr);
        const byGit = new Set(r.stdout.split('\0').filter(Boolean));
        for (const p of [...onDisk, ...files.map((f) => (f.dir ? `${f.dir}/` : '') + '.gitignore')]) assert.strictEqual(set.ignores(p), byGit.has(p), p);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('files.exclude globs', () => {
    const globs = excludeGlobs([], { '**/node_modules': true, '**/*.log': true, foo: false, '**/*.js': { when: '$(basename).ts' } });
    const excluded = excludeMatcher(globs);

    it('keeps only the true entries, after GateScope\'s own folders', () => {
      assert.ok(globs.includes('**/node_modules') && globs.includes('**/*.log') && globs.includes('**/.git'));
      assert.ok(!globs.includes('foo') && !globs.includes('**/*.js'));
    });

    const cases: [string, boolean][] = [
      ['node_modules/x.js', true],
      ['a/node_modules/b/c.js', true], // an excluded folder excludes all in it
      ['node_modules_extra/x.js', false],
      ['x.log', true],
      ['a/b/x.log', true],
      ['a.log.txt', false],
      ['foo/bar.js', false], // false entries do not exclude
      ['foo', false],
      ['dist/main.js', true], // GateScope's own skipped folders
      ['src/.git/config', true],
      ['src/index.ts', false],
    ];
    for (const [p, ex] of cases) {
      it(`${p} is ${ex ? '' : 'not '}excluded`, () => assert.strictEqual(excluded(p), ex));
    }

    it('matches VS Code glob syntax', () => {
      const table: [string, string[], string[]][] = [
        ['*.ts', ['a.ts', '.ts'], ['src/a.ts', 'a.tsx']],
        ['src/**/*.ts', ['src/a.ts', 'src/x/y/a.ts'], ['srcx/a.ts', 'a.ts', 'src/a.js']],
        ['**/*.{ts,js}', ['a.ts', 'x/y.js'], ['a.tsx', 'x/y.json']],
        ['file?.md', ['file1.md'], ['file.md', 'file12.md', 'file/.md']],
        ['[abc].txt', ['a.txt', 'c.txt'], ['d.txt', 'ab.txt']],
        ['[!abc].txt', ['d.txt'], ['a.txt']],
        ['v[0-9]/*', ['v1/a', 'v9/b'], ['va/a', 'v1/a/b']],
        ['docs/**', ['docs', 'docs/a', 'docs/a/b.md'], ['docsx', 'x/docs/a']],
        ['**/test/**/*.snap', ['test/a.snap', 'x/test/y/z/a.snap'], ['test.snap', 'x/testy/a.snap']],
        ['{**/a,b/*}', ['a', 'x/y/a', 'b/c'], ['b/c/d', 'ab']],
        ['build/', ['build'], ['build/x', 'xbuild']],
        [' spaced ', ['spaced'], [' spaced ']],
        ['a.b+c(d)', ['a.b+c(d)'], ['aXb+c(d)']],
      ];
      for (const [glob, yes, no] of table) {
        const re = globToRegExp(glob);
        for (const p of yes) assert.ok(re.test(p), `${glob} should match ${p}`);
        for (const p of no) assert.ok(!re.test(p), `${glob} should not match ${p}`);
      }
      assert.ok(!globToRegExp('[z-a]').test('z'), 'an invalid range matches nothing');
    });

    it('passes findFiles only globs that can be grouped', () => {
      assert.strictEqual(findFilesExclude(['**/a', ' b/** ', '**/*.{c,d}', 'e,f', '']), '{**/a,b/**}');
      assert.ok(excludeMatcher(['**/*.{c,d}'])('x/y.d'), 'the matcher still applies the others');
    });
  });

  describe('names never read', () => {
    const secrets = [
      '.env', '.env.local', '.env.production', '.env.example', '.ENV', '.envrc', 'server.pem', 'private.key', 'id_rsa', 'id_rsa.pub', 'id_dsa',
      'id_ecdsa', 'id_ed25519', 'cert.p12', 'cert.pfx', 'release.keystore', 'app.jks', 'putty.ppk', 'credentials', 'credentials.json',
      'Credentials.yml', 'credentials.ts', '.netrc', '_netrc', '.npmrc', '.pypirc', '.pgpass', '.git-credentials', '.htpasswd', '.dockercfg',
      'secrets.yml', 'secret.json', 'terraform.tfstate', 'terraform.tfstate.backup', '.vault-token',
    ];
    const lookalikes = [
      'environment.ts', 'env.ts', 'env.d.ts', '.environment', 'key.ts', 'keys.py', 'keyboard.ts', 'pem.ts', 'id.ts', 'identity_rsa.md',
      'credential.ts', 'secrets.ts', 'secret_santa.md', '.npmignore', '.editorconfig', 'tfstate.md', 'monkey.ts',
    ];
    for (const name of secrets) {
      it(`${name} may contain secrets`, () => {
        assert.strictEqual(skipReason(name, false), SKIP_REASON.secret);
        assert.strictEqual(pathSkipReason(`config/${name}`, new GitignoreSet([])), SKIP_REASON.secret);
      });
    }
    for (const name of lookalikes) {
      it(`${name} is kept`, () => assert.strictEqual(skipReason(name, false), null));
    }

    it('lock files and binary types are skipped by name, wherever they are', () => {
      const none = new GitignoreSet([]);
      assert.strictEqual(pathSkipReason('web/package-lock.json', none), SKIP_REASON.lock);
      assert.strictEqual(pathSkipReason('Cargo.lock', none), SKIP_REASON.lock);
      assert.strictEqual(pathSkipReason('media/logo.PNG', none), SKIP_REASON.binaryType);
      assert.strictEqual(pathSkipReason('.png', none), null);
    });

    it('a name rule is reported before .gitignore', () => {
      const set = new GitignoreSet([{ dir: '', content: '.env\ngen/\n' }]);
      assert.strictEqual(pathSkipReason('.env', set), SKIP_REASON.secret);
      assert.strictEqual(pathSkipReason('gen/a.ts', set), IGNORED_BY_GIT);
    });
  });

  describe('text', () => {
    it('joins files with a blank line, each ending with a newline', () => {
      assert.strictEqual(joinFileTexts(['a', 'b\n', 'c\r\n']), 'a\n\nb\n\nc\r\n');
      assert.strictEqual(joinFileTexts([]), '');
    });

    it('decodes UTF-8 without its byte order mark, and says why it will not', () => {
      assert.deepStrictEqual(decodeFileText(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa9])), { text: 'hé' });
      assert.deepStrictEqual(decodeFileText(new Uint8Array([0x61, 0, 0x62])), { skip: SKIP_REASON.binary });
      assert.deepStrictEqual(decodeFileText(new Uint8Array([0x61, 0xff, 0x62])), { skip: SKIP_REASON.notUtf8 });
    });
  });

  describe('the planner', () => {
    const rules = { include: '**/*', exclude: ['**/*.min.js'], maxFileBytes: 100, maxCorpusBytes: 1000 };

    it('prefixes each folder\'s paths, applies each folder\'s own .gitignore and files.exclude, and orders across folders', () => {
      const plan = planCorpus([
        { prefix: 'web/', files: [{ path: 'b.ts', size: 5 }, { path: 'gen/x.ts', size: 5 }, { path: 'a.min.js', size: 5 }], gitignores: [{ dir: '', content: 'gen/\n' }] },
        { prefix: 'api/', files: [{ path: 'gen/x.ts', size: 5 }, { path: 'snap/s.ts', size: 5 }], gitignores: [], filesExclude: { 'snap/**': true } },
      ], rules);
      assert.deepStrictEqual(plan.read.map((f) => [f.folder, f.relPath, f.path]), [[1, 'gen/x.ts', 'api/gen/x.ts'], [0, 'b.ts', 'web/b.ts']]);
      assert.deepStrictEqual(plan.skipped, [{ path: 'web/gen/x.ts', reason: IGNORED_BY_GIT }]);
    });

    it('reports symbolic links, files over the limit and folders it could not list; drops empty and excluded files silently', () => {
      const plan = planCorpus([{
        prefix: '',
        files: [{ path: 'link.ts', size: 0, symlink: true }, { path: 'big.ts', size: 101 }, { path: 'empty.ts', size: 0 }, { path: 'ok.ts', size: 100 }, { path: 'x.min.js', size: 1 }],
        gitignores: [],
        unlisted: [{ path: 'private', reason: 'unreadable folder (EACCES)' }],
      }], rules);
      assert.deepStrictEqual(plan.read.map((f) => f.path), ['ok.ts']);
      assert.deepStrictEqual(plan.skipped, [
        { path: 'big.ts', reason: 'larger than 100 B (101 B)' },
        { path: 'link.ts', reason: SYMBOLIC_LINK },
        { path: 'private', reason: 'unreadable folder (EACCES)' },
      ]);
    });

    it('takes only what the include glob matches, minus the exclude globs', () => {
      const plan = planCorpus([{
        prefix: '',
        files: [{ path: 'src/a.ts', size: 1 }, { path: 'src/a.md', size: 1 }, { path: 'vendor/k.ts', size: 1 }],
        gitignores: [{ dir: '', content: 'a.ts\n' }, { dir: 'vendor', content: '*\n' }],
      }], { ...rules, include: '**/*.ts', exclude: ['vendor/**'] });
      assert.deepStrictEqual(plan.read.map((f) => f.path), []);
      assert.deepStrictEqual(plan.skipped, [{ path: 'src/a.ts', reason: IGNORED_BY_GIT }]);
    });

    it('after reading, skips binary, non-UTF-8 and unreadable files and joins the rest in plan order', () => {
      const plan = planCorpus([{ prefix: '', files: ['a', 'b', 'c', 'd'].map((p) => ({ path: p, size: 3 })), gitignores: [] }], rules);
      const enc = (t: string) => ({ bytes: new TextEncoder().encode(t) });
      const corpus = assembleCorpus(plan, [enc('one'), { bytes: new Uint8Array([0x61, 0, 0x62]) }, { unreadable: 'EACCES' }, enc('four\n')]);
      assert.strictEqual(corpus.text, 'one\n\nfour\n');
      assert.deepStrictEqual(corpus.files, [{ path: 'a', bytes: 3 }, { path: 'd', bytes: 5 }]);
      assert.strictEqual(corpus.bytes, 8);
      assert.deepStrictEqual(corpus.skipped, [{ path: 'b', reason: SKIP_REASON.binary }, { path: 'c', reason: 'unreadable (EACCES)' }]);
    });
  });

  describe('corpus size cap', () => {
    /** The planner with the cap as its only rule: what is read, and what the cap leaves out. */
    const chooseWithinCap = (listed: readonly ListedFile[], cap: number) => {
      const plan = planCorpus([{ prefix: '', files: listed, gitignores: [] }], { include: '**/*', exclude: [], maxFileBytes: Infinity, maxCorpusBytes: cap });
      return { kept: plan.read.map(({ path, size }) => ({ path, size })), skipped: plan.skipped };
    };
    const files = Array.from({ length: 200 }, (_, i) => ({ path: `src/f${String(i).padStart(3, '0')}.ts`, size: 1 + ((i * 7919) % 1000) }));

    it('gives the same corpus whatever order the files are listed in', () => {
      const reference = chooseWithinCap(files, 40_000);
      const rng = new Rng(1);
      for (let trial = 0; trial < 20; trial++) {
        const shuffled = [...files];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.floor(rng.next() * (i + 1));
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        assert.deepStrictEqual(chooseWithinCap(shuffled, 40_000), reference);
      }
      const total = reference.kept.reduce((s, f) => s + f.size, 0);
      assert.ok(total <= 40_000 && total + reference.skipped.length > 0);
      assert.deepStrictEqual(reference.kept.map((f) => f.path), files.map((f) => f.path).slice(0, reference.kept.length));
    });

    it('keeps files in path order while the total fits, exactly, and skips the rest', () => {
      const three = [{ path: 'c', size: 30 }, { path: 'a', size: 10 }, { path: 'b', size: 20 }, { path: 'd', size: 1 }];
      const paths = (n: number) => chooseWithinCap(three, n).kept.map((f) => f.path).join('');
      assert.strictEqual(paths(61), 'abcd');
      assert.strictEqual(paths(60), 'abc'); // 10 + 20 + 30 is exactly the cap
      assert.strictEqual(paths(59), 'ab'); // c does not fit, and the small d after it is not taken either
      assert.strictEqual(paths(10), 'a');
      assert.strictEqual(paths(9), '');
      assert.deepStrictEqual(chooseWithinCap(three, 30).skipped, [{ path: 'c', reason: corpusCapReason(30) }, { path: 'd', reason: corpusCapReason(30) }]);
    });

    it('sorts by code units, not by locale', () => {
      const kept = chooseWithinCap([{ path: 'b', size: 1 }, { path: 'B', size: 1 }, { path: 'a', size: 1 }, { path: 'é', size: 1 }], 10).kept;
      assert.deepStrictEqual(kept.map((f) => f.path), ['B', 'a', 'b', 'é']);
    });
  });

  it('summarizes skipped files by reason, most first, naming the files', () => {
    const s = summarizeSkipped([
      { path: 'a', reason: 'larger than 1 MiB (2 MiB)' },
      { path: 'b', reason: 'larger than 1 MiB (3 MiB)' },
      { path: '.env', reason: SKIP_REASON.secret },
    ]);
    assert.strictEqual(s, '2 larger than 1 MiB: a, b; 1 may contain secrets: .env');
    const many = summarizeSkipped(Array.from({ length: 7 }, (_, i) => ({ path: `f${i}.png`, reason: SKIP_REASON.binaryType })));
    assert.strictEqual(many, '7 binary file type: f0.png, f1.png, f2.png, f3.png, f4.png and 2 more');
  });
});
