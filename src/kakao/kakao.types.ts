/** Kakao's wire shapes (KAKAO_API.md), as parsed by parseKakaoJson: ids are strings. */

export interface KakaoTokenResponse {
  token_type: string;
  access_token: string;
  id_token?: string;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  scope?: string;
}

export interface KakaoAccountRaw {
  profile_needs_agreement?: boolean;
  profile_nickname_needs_agreement?: boolean;
  profile_image_needs_agreement?: boolean;
  profile?: {
    nickname?: string;
    thumbnail_image_url?: string;
    profile_image_url?: string;
    is_default_image?: boolean;
    is_default_nickname?: boolean;
  };
  name_needs_agreement?: boolean;
  name?: string;
  email_needs_agreement?: boolean;
  is_email_valid?: boolean;
  is_email_verified?: boolean;
  email?: string;
  age_range_needs_agreement?: boolean;
  age_range?: string;
  birthyear_needs_agreement?: boolean;
  birthyear?: string;
  birthday_needs_agreement?: boolean;
  birthday?: string;
  birthday_type?: string;
  is_leap_month?: boolean;
  gender_needs_agreement?: boolean;
  gender?: string;
  phone_number_needs_agreement?: boolean;
  phone_number?: string;
}

export interface KakaoUserRaw {
  id: string;
  connected_at?: string;
  synched_at?: string;
  has_signed_up?: boolean;
  properties?: Record<string, string>;
  kakao_account?: KakaoAccountRaw;
}

export interface KakaoAccessTokenInfo {
  id: string;
  expires_in: number;
  app_id: string;
}

export interface KakaoServiceTerm {
  tag: string;
  required: boolean;
  agreed: boolean;
  revocable: boolean;
  agreed_at?: string;
  agreed_by?: 'KAUTH' | 'KAPI';
}

export interface KakaoServiceTermsResponse {
  id: string;
  service_terms: KakaoServiceTerm[];
}

export interface KakaoIdTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  iat: number;
  exp: number;
  auth_time: number;
  nonce?: string;
  nickname?: string;
  picture?: string;
  email?: string;
}
