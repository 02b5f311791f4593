// Prints the README's contract compatibility table from the one place the rules are defined (libs/contract/src/diff.ts).
import { rulesTable } from '@kiln/contract/diff';

console.log(rulesTable());
