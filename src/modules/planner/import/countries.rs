//! Country names and codes as the tools write them ("us", "USA", "United Kingdom", "uk", "Deutschland") turned
//! into the ISO 3166-1 alpha-2 code the keywords table keeps.

/// (alpha-2, alpha-3, names in lowercase: English first, then the country's own) for the main search markets.
const MARKETS: &[(&str, &str, &[&str])] = &[
    ("US", "USA", &["united states", "united states of america", "america", "u.s.", "u.s.a."]),
    ("GB", "GBR", &["united kingdom", "great britain", "britain", "england", "u.k."]),
    ("CA", "CAN", &["canada"]),
    ("AU", "AUS", &["australia"]),
    ("NZ", "NZL", &["new zealand"]),
    ("IE", "IRL", &["ireland", "éire"]),
    ("DE", "DEU", &["germany", "deutschland"]),
    ("AT", "AUT", &["austria", "österreich"]),
    ("CH", "CHE", &["switzerland", "schweiz", "suisse", "svizzera"]),
    ("FR", "FRA", &["france"]),
    ("BE", "BEL", &["belgium", "belgië", "belgique"]),
    ("NL", "NLD", &["netherlands", "the netherlands", "holland", "nederland"]),
    ("LU", "LUX", &["luxembourg"]),
    ("ES", "ESP", &["spain", "españa"]),
    ("PT", "PRT", &["portugal"]),
    ("IT", "ITA", &["italy", "italia"]),
    ("GR", "GRC", &["greece", "ελλάδα"]),
    ("DK", "DNK", &["denmark", "danmark"]),
    ("SE", "SWE", &["sweden", "sverige"]),
    ("NO", "NOR", &["norway", "norge"]),
    ("FI", "FIN", &["finland", "suomi"]),
    ("IS", "ISL", &["iceland"]),
    ("PL", "POL", &["poland", "polska"]),
    ("CZ", "CZE", &["czech republic", "czechia", "česko"]),
    ("SK", "SVK", &["slovakia"]),
    ("HU", "HUN", &["hungary", "magyarország"]),
    ("RO", "ROU", &["romania", "românia"]),
    ("BG", "BGR", &["bulgaria"]),
    ("HR", "HRV", &["croatia", "hrvatska"]),
    ("SI", "SVN", &["slovenia"]),
    ("RS", "SRB", &["serbia"]),
    ("UA", "UKR", &["ukraine"]),
    ("RU", "RUS", &["russia", "russian federation"]),
    ("TR", "TUR", &["turkey", "türkiye"]),
    ("IL", "ISR", &["israel"]),
    ("AE", "ARE", &["united arab emirates", "uae"]),
    ("SA", "SAU", &["saudi arabia"]),
    ("EG", "EGY", &["egypt"]),
    ("ZA", "ZAF", &["south africa"]),
    ("NG", "NGA", &["nigeria"]),
    ("KE", "KEN", &["kenya"]),
    ("MA", "MAR", &["morocco"]),
    ("IN", "IND", &["india"]),
    ("PK", "PAK", &["pakistan"]),
    ("BD", "BGD", &["bangladesh"]),
    ("CN", "CHN", &["china"]),
    ("HK", "HKG", &["hong kong"]),
    ("TW", "TWN", &["taiwan"]),
    ("JP", "JPN", &["japan"]),
    ("KR", "KOR", &["south korea", "korea", "republic of korea"]),
    ("SG", "SGP", &["singapore"]),
    ("MY", "MYS", &["malaysia"]),
    ("ID", "IDN", &["indonesia"]),
    ("TH", "THA", &["thailand"]),
    ("VN", "VNM", &["vietnam", "viet nam"]),
    ("PH", "PHL", &["philippines"]),
    ("MX", "MEX", &["mexico", "méxico"]),
    ("BR", "BRA", &["brazil", "brasil"]),
    ("AR", "ARG", &["argentina"]),
    ("CL", "CHL", &["chile"]),
    ("CO", "COL", &["colombia"]),
    ("PE", "PER", &["peru", "perú"]),
    ("VE", "VEN", &["venezuela"]),
];

/// The alpha-2 code for a code or name, or None when it names no country we know. Any two letters pass as a
/// code (the list above is of markets, not every country), except `uk`, which the tools write for GB.
pub fn alpha2(raw: &str) -> Option<String> {
    let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        let up = s.to_ascii_uppercase();
        return Some(if up == "UK" { "GB".into() } else { up });
    }
    let lower = s.to_lowercase();
    MARKETS
        .iter()
        .find(|(_, a3, names)| a3.eq_ignore_ascii_case(&lower) || names.contains(&lower.as_str()))
        .map(|(a2, _, _)| a2.to_string())
}

#[cfg(test)]
mod tests {
    use super::alpha2;

    #[test]
    fn codes_and_names_become_alpha2() {
        for (raw, want) in [
            ("us", "US"),
            ("USA", "US"),
            ("uk", "GB"),
            ("United Kingdom", "GB"),
            (" united  states ", "US"),
            ("Deutschland", "DE"),
            ("DEU", "DE"),
            ("österreich", "AT"),
            ("España", "ES"),
        ] {
            assert_eq!(alpha2(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(alpha2("Narnia"), None);
        assert_eq!(alpha2("XYZ"), None);
        assert_eq!(alpha2(""), None);
    }
}
