import { IsBoolean, IsString, Length, Matches } from 'class-validator';

export class CreateDomainBody {
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'hostType may only use letters, digits and _.-' })
  hostType!: string;
}

export class PatchDomainBody {
  @IsBoolean()
  enabled!: boolean;
}
