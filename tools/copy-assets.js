#!/usr/bin/env node
// Part of `npm run build`: files the compiled apps read at run time besides JavaScript.
'use strict';

const { cpSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
cpSync(path.join(root, 'libs/contracts/proto'), path.join(root, 'dist/libs/contracts/proto'), {
  recursive: true,
});
