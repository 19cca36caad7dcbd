#!/usr/bin/env node
import { runSimCli } from './cli.js';

process.exitCode = await runSimCli(process.argv.slice(2));
