import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, MinLength } from 'class-validator';
import type { Term } from '../terms-catalog';
import { TAG_PATTERN } from '../terms-catalog';
import type { MemberTermsView } from '../terms.service';

export class TermDto {
  @ApiProperty({ example: 'privacy_2024', description: 'The tag registered in the Kakao console' })
  tag!: string;
  @ApiProperty({ example: 'Privacy Policy' })
  title!: string;
  @ApiProperty({ example: 'https://example.com/terms/privacy' })
  url!: string;
  @ApiProperty({ example: true })
  required!: boolean;
  @ApiProperty({ example: false, description: 'Whether a member may revoke it (optional terms only)' })
  revocable!: boolean;
}

export class MemberTermDto {
  @ApiProperty({ example: 'marketing' })
  tag!: string;
  @ApiProperty({ example: 'Marketing messages (optional)' })
  title!: string;
  @ApiProperty({ example: 'https://example.com/terms/marketing' })
  url!: string;
  @ApiProperty({ example: false })
  required!: boolean;
  @ApiProperty({ example: true })
  agreed!: boolean;
  @ApiProperty({ example: '2026-11-01T09:00:00.000Z', nullable: true, type: String })
  agreedAt!: string | null;
  @ApiProperty({
    example: 'KAUTH',
    nullable: true,
    type: String,
    enum: ['KAUTH', 'KAPI'],
    description: "Kakao's path for a Kakao Sync agreement: its consent screen (KAUTH) or the upgrade API (KAPI)",
  })
  agreedBy!: string | null;
  @ApiProperty({
    example: 'kakao_sync',
    nullable: true,
    type: String,
    enum: ['kakao_sync', 'service'],
    description: 'Where the current state was given: Kakao Sync, or the service’s own pages; null if never',
  })
  source!: string | null;
  @ApiProperty({ example: true, description: 'Whether it can be revoked now (an agreed, optional, revocable term)' })
  revocable!: boolean;
}

export class TermHistoryEntryDto {
  @ApiProperty({ example: 'marketing' })
  tag!: string;
  @ApiProperty({ example: false, description: 'true: agreed; false: declined or revoked' })
  agreed!: boolean;
  @ApiProperty({ example: null, nullable: true, type: String })
  agreedAt!: string | null;
  @ApiProperty({ example: null, nullable: true, type: String, enum: ['KAUTH', 'KAPI'] })
  agreedBy!: string | null;
  @ApiProperty({ example: 'service', enum: ['kakao_sync', 'service'] })
  source!: string;
  @ApiProperty({ example: '2026-11-02T10:00:00.000Z', description: 'When the service recorded the change' })
  recordedAt!: string;
}

export class MemberTermsDto {
  @ApiProperty({ type: MemberTermDto, isArray: true, description: 'Every term of the catalog, in its order' })
  terms!: MemberTermDto[];
  @ApiProperty({ type: TermHistoryEntryDto, isArray: true, description: 'Every change, oldest first' })
  history!: TermHistoryEntryDto[];
  @ApiProperty({ example: '2026-11-02T10:00:00.000Z', nullable: true, type: String, description: 'Last read of Kakao' })
  syncedAt!: string | null;
  @ApiProperty({ example: false, description: 'true when the last read of Kakao failed (retried in the background)' })
  stale!: boolean;
}

export class AgreeTermsRequestDto {
  @ApiProperty({ example: ['privacy_2024', 'marketing'], isArray: true, type: String })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(TAG_PATTERN, { each: true, message: 'each tag must be a term tag' })
  tags!: string[];
}

export class TermsAgreeRequestDto extends AgreeTermsRequestDto {
  @ApiProperty({ example: 'Xq1v0sZ8m4kP2dR7tB9wL3yH6cN5fJ0aE1uG8iK2oM4', description: 'From TERMS_REQUIRED' })
  @IsString()
  @MinLength(1)
  termsTicket!: string;
}

export const toTermDto = (t: Term): TermDto => ({
  tag: t.tag,
  title: t.title,
  url: t.url,
  required: t.required,
  revocable: t.revocable,
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toMemberTermsDto(view: MemberTermsView): MemberTermsDto {
  return {
    terms: view.terms.map((t) => ({
      tag: t.tag,
      title: t.title,
      url: t.url,
      required: t.required,
      agreed: t.agreed,
      agreedAt: iso(t.agreedAt),
      agreedBy: t.agreedBy,
      source: t.source,
      revocable: t.revocable,
    })),
    history: view.history.map((h) => ({
      tag: h.tag,
      agreed: h.agreed,
      agreedAt: iso(h.agreedAt),
      agreedBy: h.agreedBy,
      source: h.source,
      recordedAt: h.recordedAt.toISOString(),
    })),
    syncedAt: iso(view.syncedAt),
    stale: view.stale,
  };
}
