use super::*;

fn edit(text: &str, f: impl FnOnce(&mut Manifest)) -> String {
    let mut m = Manifest::parse(text).unwrap();
    f(&mut m);
    m.render()
}

#[test]
fn keeps_two_space_indent_and_key_order() {
    let text = "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"tool\": \"1.0.0\"\n  },\n  \"scripts\": {}\n}\n";
    let out = edit(text, |m| m.add("leaf", "^1.1.0", None));
    assert_eq!(
        out,
        "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"leaf\": \"^1.1.0\",\n    \"tool\": \"1.0.0\"\n  },\n  \"scripts\": {}\n}\n"
    );
    // Removing gives the original bytes back.
    assert_eq!(edit(&out, |m| m.remove("leaf")), text);
}

#[test]
fn tabs_four_spaces_crlf_and_no_final_newline() {
    let tabs = "{\n\t\"name\": \"x\"\n}\n";
    assert_eq!(
        edit(tabs, |m| m.add("a", "^1.0.0", Some(SaveType::Dev))),
        "{\n\t\"name\": \"x\",\n\t\"devDependencies\": {\n\t\t\"a\": \"^1.0.0\"\n\t}\n}\n"
    );
    let four = "{\r\n    \"name\": \"x\"\r\n}";
    let out = edit(four, |m| m.add("a", "1.0.0", None));
    assert_eq!(
        out,
        "{\r\n    \"name\": \"x\",\r\n    \"dependencies\": {\r\n        \"a\": \"1.0.0\"\r\n    }\r\n}"
    );
    assert_eq!(edit(&out, |m| m.remove("a")), four);
    let minified = r#"{"name":"x","dependencies":{"tool":"1.0.0"}}"#;
    assert_eq!(
        edit(minified, |m| m.add("b", "^2.0.0", None)),
        r#"{"name":"x","dependencies":{"b":"^2.0.0","tool":"1.0.0"}}"#
    );
    let bom = "\u{feff}{\n  \"name\": \"x\"\n}\n";
    assert_eq!(edit(bom, |_| {}), bom);
    assert_eq!(
        edit("{}\n", |m| m.add("a", "^1.0.0", None)),
        "{\n  \"dependencies\": {\n    \"a\": \"^1.0.0\"\n  }\n}\n"
    );
}

#[test]
fn sorts_every_section_in_locale_order() {
    let text =
        r#"{"dependencies":{"b":"1","A":"1","@s/z":"1"},"devDependencies":{"z":"1","a":"1"}}"#;
    assert_eq!(
        edit(text, |m| m.add("c", "2", None)),
        r#"{"dependencies":{"@s/z":"1","A":"1","b":"1","c":"2"},"devDependencies":{"a":"1","z":"1"}}"#
    );
}

#[test]
fn moves_between_sections_like_npm() {
    let text = r#"{"dependencies":{"a":"1","o":"1"},"devDependencies":{"d":"1"},"peerDependencies":{"p":"1"}}"#;
    // -D moves a prod dependency to dev, with npm's warning.
    let mut m = Manifest::parse(text).unwrap();
    m.add("a", "^2.0.0", Some(SaveType::Dev));
    assert_eq!(
        m.warnings,
        ["Removing dependencies.a in favor of devDependencies.a"]
    );
    assert_eq!(
        m.render(),
        r#"{"dependencies":{"o":"1"},"devDependencies":{"a":"^2.0.0","d":"1"},"peerDependencies":{"p":"1"}}"#
    );
    // No flag: an existing dev dependency stays dev.
    assert_eq!(
        edit(text, |m| m.add("d", "^3.0.0", None)),
        r#"{"dependencies":{"a":"1","o":"1"},"devDependencies":{"d":"^3.0.0"},"peerDependencies":{"p":"1"}}"#
    );
    // -P moves dev and peer out.
    assert_eq!(
        edit(text, |m| m.add("p", "^1.0.0", Some(SaveType::Prod))),
        r#"{"dependencies":{"a":"1","o":"1","p":"^1.0.0"},"devDependencies":{"d":"1"}}"#
    );
    // -O leaves dependencies; the new section goes at the end.
    assert_eq!(
        edit(text, |m| m.add("o", "^1.0.0", Some(SaveType::Optional))),
        r#"{"dependencies":{"a":"1"},"devDependencies":{"d":"1"},"peerDependencies":{"p":"1"},"optionalDependencies":{"o":"^1.0.0"}}"#
    );
    // --save-peer: out of dependencies, a dev copy gets the new spec.
    let with_dev = r#"{"dependencies":{"a":"1"},"devDependencies":{"a":"1"}}"#;
    assert_eq!(
        edit(with_dev, |m| m.add("a", "^1.2.0", Some(SaveType::Peer))),
        r#"{"devDependencies":{"a":"^1.2.0"},"peerDependencies":{"a":"^1.2.0"}}"#
    );
}

#[test]
fn remove_drops_empty_sections_and_ignores_unknown_names() {
    let text = "{\n  \"name\": \"x\",\n  \"devDependencies\": {\n    \"a\": \"1\"\n  },\n  \"peerDependencies\": {\n    \"b\": \"1\"\n  },\n  \"peerDependenciesMeta\": {\n    \"b\": {\n      \"optional\": true\n    }\n  }\n}\n";
    assert_eq!(
        edit(text, |m| {
            m.remove("a");
            m.remove("b")
        }),
        "{\n  \"name\": \"x\"\n}\n"
    );
    assert_eq!(edit(text, |m| m.remove("nothere")), text);
}

#[test]
fn rejects_bad_manifests() {
    for bad in ["[]", "{", r#"{"dependencies":"x"}"#] {
        assert_eq!(
            Manifest::parse(bad).unwrap_err().code,
            Code::Manifest,
            "{bad}"
        );
    }
}
