// One config per target, built from a shared base (see STYLE.md):
//  - extension: the VS Code extension host (Node, `vscode` external)
//  - webview:   the side panel (browser)
//  - cli:       the `gatescope` command line and the benchmark (Node)
'use strict';
const path = require('path');
const fs = require('fs');
const webpack = require('webpack');

/** @returns {import('webpack').Configuration} */
function base(name, target) {
  return {
    name,
    target,
    mode: 'none',
    devtool: 'source-map',
    resolve: { extensions: ['.ts', '.js'] },
    module: {
      rules: [
        { test: /\.ts$/, exclude: /node_modules/, use: [{ loader: 'ts-loader', options: { transpileOnly: true } }] },
        { test: /\.wgsl$/, type: 'asset/source' },
      ],
    },
    output: { path: path.resolve(__dirname, 'dist'), filename: '[name].js' },
    performance: { hints: false },
    infrastructureLogging: { level: 'warn' },
  };
}

const configs = [];

// The WebAssembly thread pool's helper threads (kernels/node/wasmWorker.ts): worker_threads loads it from a file
// beside the bundle that starts it, so both Node bundles that can train on several threads emit dist/wasmWorker.js
// (the same entry and settings: the same file).
const wasmWorker = './kernels/node/wasmWorker.ts';

const cli = base('cli', 'node');
cli.entry = { cli: './cli/gatescope.ts', bench: './bench/main.ts', wasmWorker };
cli.plugins = [new webpack.BannerPlugin({ banner: '#!/usr/bin/env node', raw: true, test: /^cli\.js$/ })];
cli.output.libraryTarget = 'commonjs2';
// TensorFlow.js and its WASM binaries are benchmark-only dev dependencies: load them from node_modules.
cli.externals = [/^@tensorflow\//, { webgpu: 'commonjs webgpu' }];
configs.push(cli);

if (fs.existsSync(path.join(__dirname, 'extension', 'extension.ts'))) {
  const extension = base('extension', 'node');
  // The CPU training worker is its own bundle: worker_threads loads it from a file.
  extension.entry = { extension: './extension/extension.ts', trainWorker: './extension/trainWorker.ts', wasmWorker };
  // The inspector's worker (activations, corpus match, sampling off the host's thread).
  if (fs.existsSync(path.join(__dirname, 'extension', 'inspectWorker.ts'))) extension.entry.inspectWorker = './extension/inspectWorker.ts';
  // The completion worker (the inline completions' model, state cache and decoder off the host's thread).
  if (fs.existsSync(path.join(__dirname, 'extension', 'completionWorker.ts'))) extension.entry.completionWorker = './extension/completionWorker.ts';
  extension.output.libraryTarget = 'commonjs2';
  extension.externals = { vscode: 'commonjs vscode' };
  configs.push(extension);
}

if (fs.existsSync(path.join(__dirname, 'webview', 'main.ts'))) {
  const webview = base('webview', 'web');
  webview.entry = { webview: './webview/main.ts' };
  // The inspector view (a second webview: heatmaps, unit search, probes, saturation, sampling).
  if (fs.existsSync(path.join(__dirname, 'webview', 'inspectorMain.ts'))) webview.entry.inspector = './webview/inspectorMain.ts';
  configs.push(webview);
}

module.exports = configs;
