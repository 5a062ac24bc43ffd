export interface AdminIdentity {
  readonly name: string;
  readonly readOnly: boolean;
}
