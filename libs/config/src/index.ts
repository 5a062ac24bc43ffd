export const HELLO = 'x';
