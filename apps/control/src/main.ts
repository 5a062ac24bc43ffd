import { HELLO } from '#config';
console.log(HELLO);
