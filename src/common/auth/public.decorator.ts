import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'auth:isPublic';

/** Marks a route (or controller) as reachable without the service's access token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
