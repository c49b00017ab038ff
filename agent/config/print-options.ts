import { optionsTable } from './options-table.ts';

// `node agent/config/print-options.ts`: the table for the README (test/unit/config/readme.test.ts keeps them equal).
process.stdout.write(optionsTable() + '\n');
