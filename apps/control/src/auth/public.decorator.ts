import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'meridian:public';
/** Routes reachable without a token (health checks). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
