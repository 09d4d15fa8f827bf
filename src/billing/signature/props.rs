//! Properties of the webhook signature check: only a signature made with the secret, for this body and a
//! timestamp within the tolerance, is accepted; any header at all is answered without a panic.

use proptest::prelude::*;

use super::*;

/// Header text built from the pieces a forged or broken header is made of.
fn header_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("t=".to_string()),
        Just("v1=".to_string()),
        Just("v0=".to_string()),
        Just(",".to_string()),
        Just("=".to_string()),
        Just(" ".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just(i64::MIN.to_string()),
        Just(i64::MAX.to_string()),
        "[0-9a-f]{64}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(crate::props_config(512))]

    #[test]
    fn any_timestamp_and_clock_are_answered(t in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX)], now in any::<i64>()) {
        let header = format!("t={t},v1={}", "0".repeat(64));
        let stale = (i128::from(now) - i128::from(t)).abs() > i128::from(TOLERANCE_SECS);
        let want = if stale { Refused::Stale } else { Refused::Mismatch };
        prop_assert_eq!(verify(Some(&header), b"{}", "whsec_prop", now), Err(want));
    }

    #[test]
    fn any_header_is_answered_and_never_accepted(header in header_text(), body in any::<Vec<u8>>(), now in any::<i64>()) {
        prop_assert!(verify(Some(&header), &body, "whsec_prop", now).is_err());
    }

    #[test]
    fn a_correct_signature_within_the_tolerance_is_accepted(
        body in any::<Vec<u8>>(),
        secret in ".{1,40}",
        t in -4_000_000_000i64..8_000_000_000,
        skew in -TOLERANCE_SECS..=TOLERANCE_SECS,
    ) {
        let header = header_for(&body, &secret, t);
        prop_assert_eq!(verify(Some(&header), &body, &secret, t + skew), Ok(()));
        // Stripe may list an old signature next to the new one while a secret rolls over.
        let rolled = format!("{header},v1={}", "0".repeat(64));
        prop_assert_eq!(verify(Some(&rolled), &body, &secret, t + skew), Ok(()));
    }

    #[test]
    fn anything_not_signed_with_the_secret_for_this_body_and_time_is_refused(
        body in any::<Vec<u8>>(),
        other_body in any::<Vec<u8>>(),
        secret in ".{1,40}",
        other_secret in ".{1,40}",
        t in -4_000_000_000i64..8_000_000_000,
        shift in 1i64..=TOLERANCE_SECS,
        late in TOLERANCE_SECS + 1..i64::MAX / 4,
    ) {
        let header = header_for(&body, &secret, t);
        if other_secret != secret {
            prop_assert_eq!(verify(Some(&header_for(&body, &other_secret, t)), &body, &secret, t), Err(Refused::Mismatch));
        }
        if other_body != body {
            prop_assert_eq!(verify(Some(&header), &other_body, &secret, t), Err(Refused::Mismatch));
        }
        // The signature of one moment does not cover another (the timestamp is part of what is signed).
        let moved = header.replacen(&format!("t={t},"), &format!("t={},", t + shift), 1);
        prop_assert_eq!(verify(Some(&moved), &body, &secret, t), Err(Refused::Mismatch));
        prop_assert_eq!(verify(Some(&header), &body, &secret, t.saturating_add(late)), Err(Refused::Stale));
        prop_assert_eq!(verify(Some(&header), &body, &secret, t.saturating_sub(late)), Err(Refused::Stale));
    }
}
