#!/usr/bin/env node
console.log('mono-shared')
