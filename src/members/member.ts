/** Domain types of members, independent of tables and of HTTP shapes. */

export type MemberStatus = 'active' | 'deactivated' | 'withdrawn';
export type LoginMethod = 'password' | 'kakao';

/** Profile data that came from Kakao (and is deleted with the Kakao link). */
export interface MemberProfile {
  nickname?: string | null;
  profileImageUrl?: string | null;
  thumbnailImageUrl?: string | null;
  gender?: string | null;
  ageRange?: string | null;
  birthyear?: string | null;
  birthday?: string | null;
  birthdayType?: string | null;
  isLeapMonth?: boolean | null;
  phoneNumber?: string | null;
}

export interface MemberIdentity {
  provider: 'kakao';
  providerUserId: string;
  connectedAt: Date | null;
  linkedAt: Date;
}

export interface Member {
  id: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  status: MemberStatus;
  hasPassword: boolean;
  profile: MemberProfile;
  createdAt: Date;
  identities: MemberIdentity[];
}

export function loginMethods(member: Pick<Member, 'hasPassword' | 'identities'>): LoginMethod[] {
  return [...(member.hasPassword ? (['password'] as const) : []), ...member.identities.map((i) => i.provider)];
}
