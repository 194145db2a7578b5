//! The call script catalog: built-in templates in every language (snapshotted), natural dates
//! and times across time zones and DST, the templates file, and every refusal.

use callconfirm::domain::PhoneNumber;
use callconfirm::error::FieldError;
use callconfirm::ivr::callflow;
use callconfirm::ivr::machine::{self, IvrState};
use callconfirm::ivr::{CallScript, Catalog, CatalogSettings, ScriptRequest};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const TEMPLATES: [&str; 6] = [
    "default",
    "medical",
    "restaurant",
    "salon",
    "vehicle_service",
    "professional",
];
const LANGUAGES: [&str; 7] = [
    "en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "zh-CN", "ja-JP",
];

fn phone(raw: &str) -> PhoneNumber {
    PhoneNumber::parse(raw).unwrap()
}

fn at(rfc3339: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap()
}

/// The facts of one test call; `request()` borrows them as the service would.
struct Call {
    template: Option<String>,
    language: Option<String>,
    time_zone: Option<String>,
    appointment: DateTime<FixedOffset>,
    business: String,
    customer: Option<String>,
    staff: Option<String>,
    callback: Option<PhoneNumber>,
    staff_phone: Option<PhoneNumber>,
    source: PhoneNumber,
}

impl Call {
    fn new(template: &str, language: &str) -> Call {
        Call {
            template: Some(template.to_owned()),
            language: Some(language.to_owned()),
            time_zone: None,
            appointment: at("2025-04-20T19:30:00Z"),
            business: "Bright Smile Dental".to_owned(),
            customer: None,
            staff: None,
            callback: None,
            staff_phone: None,
            source: phone("+6588000000"),
        }
    }

    fn request(&self) -> ScriptRequest<'_> {
        ScriptRequest {
            order_id: "A1",
            template: self.template.as_deref(),
            language: self.language.as_deref(),
            time_zone: self.time_zone.as_deref(),
            appointment: self.appointment,
            business_name: &self.business,
            customer_name: self.customer.as_deref(),
            staff_name: self.staff.as_deref(),
            callback_phone: self.callback.as_ref(),
            staff_phone: self.staff_phone.as_ref(),
            source: &self.source,
        }
    }

    fn render(&self, catalog: &Catalog) -> Result<CallScript, Vec<FieldError>> {
        catalog.render(&self.request())
    }
}

/// `callflow[1]` of the first Send Callflow: the sayAndCapture the customer hears first.
fn first_capture(script: &CallScript) -> Value {
    let now = Utc.with_ymd_and_hms(2025, 4, 19, 9, 0, 0).unwrap();
    let request = callflow::initial_request(script, "6591234567", now);
    serde_json::to_value(&request.callflow[1]).unwrap()
}

/// A business name that suits each built-in template, for snapshots that read naturally.
fn business_for(template: &str) -> &'static str {
    match template {
        "medical" => "Riverside Clinic",
        "restaurant" => "Luigi's Trattoria",
        "salon" => "Studio Nova",
        "vehicle_service" => "Eastside Motors",
        "professional" => "Kern and Partners",
        _ => "Bright Smile Dental",
    }
}

/// A customer and a staff member named as people are named in each language.
fn names_for(language: &str) -> (&'static str, &'static str) {
    match language {
        "es-ES" => ("Lucía García", "Carlos"),
        "fr-FR" => ("Camille Martin", "Julien"),
        "de-DE" => ("Anna Schmidt", "Jonas"),
        "zh-CN" => ("王芳", "李明"),
        "ja-JP" => ("佐藤花子", "田中"),
        _ => ("Anna Lee", "Maria"),
    }
}

#[test]
fn the_default_template_speaks_the_original_prompt_word_for_word() {
    let catalog = Catalog::builtin(2);
    let mut call = Call::new("default", "en-US");
    call.template = None;
    call.language = None;

    let script = call.render(&catalog).unwrap();

    assert_eq!(
        &*script.texts.prompt,
        "Hello, you have an appointment at Bright Smile Dental on April 20th, 2025 at 7:30 PM. \
         Will you be arriving on time? If yes, press one. If you wish to cancel, press zero."
    );
    assert_eq!(
        first_capture(&script),
        json!({
            "action": "sayAndCapture",
            "params": {
                "promptMessage": "Hello, you have an appointment at Bright Smile Dental on April 20th, 2025 at 7:30 PM. Will you be arriving on time? If yes, press one. If you wish to cancel, press zero.",
                "voiceProfile": "en-US-BenjaminRUS",
                "repetition": 2,
                "speed": 1,
                "minDigits": 1,
                "maxDigits": 1,
                "digitTimeout": 10000,
                "overallTimeout": 10000,
                "completeOnHash": false,
                "noOfTries": 2,
                "successMessage": null,
                "failureMessage": "Invalid input, please try again"
            }
        })
    );
    assert_eq!(
        serde_json::to_value(&script).unwrap(),
        json!({
            "template": "default",
            "language": "en-US",
            "voiceProfile": "en-US-BenjaminRUS",
            "speed": 1.0,
            "clientActionBase": "A1_20250420_1930_Bright_Smile_Dental",
            "source": "6588000000",
            "staffPhone": null,
            "menu": {"repeat": false, "staff": false, "confirmCancel": false},
            "maxReprompts": 2,
            "maxRepeats": 0,
            "texts": {
                "prompt": "Hello, you have an appointment at Bright Smile Dental on April 20th, 2025 at 7:30 PM. Will you be arriving on time? If yes, press one. If you wish to cancel, press zero.",
                "repeatPrefix": "",
                "repromptPrefix": "Sorry, we did not get a valid answer.",
                "confirmCancel": "",
                "confirmed": "Thank you for confirming. We look forward to seeing you at your appointment time.",
                "kept": "",
                "cancelled": "Your appointment has been cancelled. Thank you for letting us know.",
                "transferring": "",
                "goodbye": "Sorry, we did not receive a response. Goodbye.",
                "failureMessage": "Invalid input, please try again"
            }
        })
    );
}

#[test]
fn every_built_in_template_in_every_language_matches_its_reviewed_snapshot() {
    let catalog = Catalog::builtin(2);
    for template in TEMPLATES {
        for language in LANGUAGES {
            let mut plain = Call::new(template, language);
            plain.business = business_for(template).to_owned();
            let (customer, staff) = names_for(language);
            let mut full = Call::new(template, language);
            full.business = business_for(template).to_owned();
            full.customer = Some(customer.to_owned());
            full.staff = Some(staff.to_owned());
            full.callback = Some(phone("+65 6555 1234"));
            full.staff_phone = Some(phone("+65 9123 4567"));

            let plain = plain.render(&catalog).unwrap();
            let full = full.render(&catalog).unwrap();

            insta::assert_json_snapshot!(
                format!("{template}__{language}"),
                json!({
                    "sayAndCapture": first_capture(&plain),
                    "sayAndCaptureWithNamesStaffAndCallback": first_capture(&full),
                    "scriptWithNamesStaffAndCallback": full,
                })
            );
        }
    }
}

/// The prompt and the clientActionId base of a default-template call at `instant`.
fn spoken_at(language: &str, zone: Option<&str>, instant: &str) -> (String, String) {
    let mut call = Call::new("default", language);
    call.time_zone = zone.map(str::to_owned);
    call.appointment = at(instant);
    let script = call.render(&Catalog::builtin(2)).unwrap();
    (script.texts.prompt.to_string(), script.client_action_base)
}

#[test]
fn new_york_appointments_are_spoken_in_local_time_across_both_dst_changes() {
    let zone = Some("America/New_York");
    let cases = [
        // 2025-03-09: 02:00 EST jumps to 03:00 EDT.
        (
            "2025-03-09T06:59:00Z",
            "March 9th, 2025 at 1:59 AM",
            "20250309_0159",
        ),
        (
            "2025-03-09T07:00:00Z",
            "March 9th, 2025 at 3 AM",
            "20250309_0300",
        ),
        // 2025-11-02: 02:00 EDT falls back to 01:00 EST; 1:30 happens twice.
        (
            "2025-11-02T05:30:00Z",
            "November 2nd, 2025 at 1:30 AM",
            "20251102_0130",
        ),
        (
            "2025-11-02T06:30:00Z",
            "November 2nd, 2025 at 1:30 AM",
            "20251102_0130",
        ),
        // Sent with another offset: still spoken in New York time.
        (
            "2025-04-20T21:30:00+02:00",
            "April 20th, 2025 at 3:30 PM",
            "20250420_1530",
        ),
        (
            "2025-07-04T16:00:00Z",
            "July 4th, 2025 at 12 PM",
            "20250704_1200",
        ),
        (
            "2025-12-31T05:00:00Z",
            "December 31st, 2025 at 12 AM",
            "20251231_0000",
        ),
    ];
    for (instant, when, stamp) in cases {
        assert_eq!(
            spoken_at("en-US", zone, instant),
            (
                format!(
                    "Hello, you have an appointment at Bright Smile Dental on {when}. Will you be \
                     arriving on time? If yes, press one. If you wish to cancel, press zero."
                ),
                format!("A1_{stamp}_Bright_Smile_Dental")
            ),
            "{instant}"
        );
    }
}

#[test]
fn berlin_appointments_are_spoken_in_local_time_across_both_dst_changes() {
    let zone = Some("Europe/Berlin");
    let cases = [
        // 2025-03-30: 02:00 CET jumps to 03:00 CEST.
        (
            "2025-03-30T00:59:00Z",
            "30. März 2025 um 1:59 Uhr",
            "20250330_0159",
        ),
        (
            "2025-03-30T01:00:00Z",
            "30. März 2025 um 3 Uhr",
            "20250330_0300",
        ),
        // 2025-10-26: 03:00 CEST falls back to 02:00 CET; 2:30 happens twice.
        (
            "2025-10-26T00:30:00Z",
            "26. Oktober 2025 um 2:30 Uhr",
            "20251026_0230",
        ),
        (
            "2025-10-26T01:30:00Z",
            "26. Oktober 2025 um 2:30 Uhr",
            "20251026_0230",
        ),
        (
            "2025-04-20T22:00:00Z",
            "21. April 2025 um 0 Uhr",
            "20250421_0000",
        ),
    ];
    for (instant, when, stamp) in cases {
        assert_eq!(
            spoken_at("de-DE", zone, instant),
            (
                format!(
                    "Guten Tag, Sie haben einen Termin bei Bright Smile Dental am {when}. Werden \
                     Sie pünktlich da sein? Wenn ja, drücken Sie die 1. Wenn Sie absagen möchten, \
                     drücken Sie die 0."
                ),
                format!("A1_{stamp}_Bright_Smile_Dental")
            ),
            "{instant}"
        );
    }
}

#[test]
fn without_a_time_zone_the_appointment_is_spoken_in_the_offset_it_was_sent_in() {
    let (prompt, base) = spoken_at("en-US", None, "2025-04-20T21:30:00+02:00");
    assert!(
        prompt.contains("on April 20th, 2025 at 9:30 PM."),
        "{prompt}"
    );
    assert_eq!(base, "A1_20250420_2130_Bright_Smile_Dental");
}

#[test]
fn each_language_says_noon_midnight_and_the_first_of_the_month_natively() {
    let cases = [
        (
            "en-GB",
            "2025-05-01T12:00:00Z",
            "on 1st May 2025 at midday.",
        ),
        (
            "en-GB",
            "2025-05-01T00:00:00Z",
            "on 1st May 2025 at midnight.",
        ),
        (
            "es-ES",
            "2025-05-01T13:05:00Z",
            "el 1 de mayo de 2025 a las 13:05.",
        ),
        (
            "es-ES",
            "2025-05-01T01:15:00Z",
            "el 1 de mayo de 2025 a la 1:15.",
        ),
        ("fr-FR", "2025-05-01T12:00:00Z", "le 1er mai 2025 à midi."),
        ("fr-FR", "2025-05-02T00:00:00Z", "le 2 mai 2025 à minuit."),
        (
            "fr-FR",
            "2025-04-20T19:30:00Z",
            "le 20 avril 2025 à 19 h 30.",
        ),
        (
            "de-DE",
            "2025-04-20T08:00:00Z",
            "am 20. April 2025 um 8 Uhr.",
        ),
        (
            "zh-CN",
            "2025-04-20T12:00:00Z",
            "时间是2025年4月20日中午12点。",
        ),
        (
            "zh-CN",
            "2025-04-20T00:00:00Z",
            "时间是2025年4月20日凌晨0点。",
        ),
        (
            "ja-JP",
            "2025-04-20T12:00:00Z",
            "ご予約は2025年4月20日正午です。",
        ),
        (
            "ja-JP",
            "2025-04-20T00:00:00Z",
            "ご予約は2025年4月20日午前0時です。",
        ),
    ];
    for (language, instant, expected) in cases {
        let (prompt, _) = spoken_at(language, Some("UTC"), instant);
        assert!(prompt.contains(expected), "{language} {instant}: {prompt}");
    }
}

#[test]
fn languages_and_zones_match_case_insensitively() {
    let catalog = Catalog::builtin(2);
    let mut call = Call::new("default", "en-gb");
    call.time_zone = Some("europe/london".to_owned());
    let script = call.render(&catalog).unwrap();
    assert_eq!(&*script.language, "en-GB");
    assert_eq!(&*script.voice_profile, "en-GB-HazelRUS");
    assert!(
        script
            .texts
            .prompt
            .contains("on 20th April 2025 at 8:30 pm."),
        "{}",
        script.texts.prompt
    );
}

#[test]
fn render_refuses_unknown_templates_languages_and_zones_all_at_once() {
    let catalog = Catalog::builtin(2);
    let mut call = Call::new("spa", "en_us");
    call.time_zone = Some("Mars/Olympus_Mons".to_owned());

    assert_eq!(
        call.render(&catalog),
        Err(vec![
            FieldError::new(
                "template",
                "unknown template \"spa\"; known templates: default, medical, professional, \
                 restaurant, salon, vehicle_service"
            ),
            FieldError::new(
                "language",
                "unsupported language \"en_us\"; supported languages: en-US, en-GB, es-ES, \
                 fr-FR, de-DE, zh-CN, ja-JP"
            ),
            FieldError::new(
                "timeZone",
                "unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as \
                 America/New_York"
            ),
        ])
    );
}

#[test]
fn a_business_name_too_long_to_speak_is_refused_before_anything_is_sent() {
    let catalog = Catalog::builtin(2);
    let mut call = Call::new("default", "en-US");
    call.business = "B".repeat(2900);

    assert_eq!(
        call.render(&catalog),
        Err(vec![FieldError::new(
            "businessName",
            "too long to be spoken: the call's reprompt_prefix + prompt would be 3088 characters \
             and 8x8 speaks at most 3000; shorten it to at most 2812 characters"
        )])
    );

    call.business = "B".repeat(2812);
    let script = call.render(&catalog).unwrap();
    assert_eq!(
        script.texts.reprompt_prefix.chars().count() + 1 + script.texts.prompt.chars().count(),
        3000
    );
}

#[test]
fn an_empty_business_name_is_refused() {
    let mut call = Call::new("default", "en-US");
    call.business = "  ".to_owned();
    assert_eq!(
        call.render(&Catalog::builtin(2)),
        Err(vec![FieldError::new(
            "businessName",
            "must name the business: every call opens with it"
        )])
    );
}

#[test]
fn press_two_is_offered_only_when_a_staff_number_is_given() {
    let catalog = Catalog::builtin(2);
    let mut call = Call::new("salon", "en-US");
    call.business = "Studio Nova".to_owned();
    call.staff = Some("Maria".to_owned());

    let without = call.render(&catalog).unwrap();
    call.staff_phone = Some(phone("+65 9123 4567"));
    let with = call.render(&catalog).unwrap();

    assert_eq!(
        (
            without.menu.staff,
            without.staff_phone,
            &*without.texts.transferring
        ),
        (false, None, "")
    );
    assert_eq!(
        &*without.texts.prompt,
        "Hello, this is Studio Nova calling about your upcoming appointment. You're scheduled \
         with Maria for Sunday, April 20th, 2025 at 7:30 PM. To confirm, press one. To cancel, \
         press zero. To hear the details again, press nine."
    );
    assert_eq!(
        (
            with.menu.staff,
            with.staff_phone.as_deref(),
            &*with.texts.transferring
        ),
        (
            true,
            Some("6591234567"),
            "Please hold while we connect you to Maria."
        )
    );
    assert_eq!(
        &*with.texts.prompt,
        "Hello, this is Studio Nova calling about your upcoming appointment. You're scheduled \
         with Maria for Sunday, April 20th, 2025 at 7:30 PM. To confirm, press one. To cancel, \
         press zero. To speak with Maria, press two. To hear the details again, press nine."
    );
}

#[test]
fn the_medical_template_never_speaks_a_name_even_when_given_one() {
    let catalog = Catalog::builtin(2);
    for language in LANGUAGES {
        let (customer, staff) = names_for(language);
        let mut call = Call::new("medical", language);
        call.customer = Some(customer.to_owned());
        call.staff = Some(staff.to_owned());
        call.staff_phone = Some(phone("+65 9123 4567"));
        call.callback = Some(phone("+65 6555 1234"));
        let script = call.render(&catalog).unwrap();
        let everything = serde_json::to_string(&script.texts).unwrap();
        assert!(!everything.contains(customer), "{language}: {everything}");
        assert!(!everything.contains(staff), "{language}: {everything}");
    }
}

#[test]
fn the_callback_number_closes_every_prompt_digit_by_digit() {
    let catalog = Catalog::builtin(2);
    let mut prompts = Vec::new();
    for language in ["en-US", "en-GB", "zh-CN"] {
        let mut call = Call::new("medical", language);
        call.callback = Some(phone("+65 6555 1234"));
        prompts.push(call.render(&catalog).unwrap().texts.prompt);
    }
    assert!(
        prompts[0].ends_with(
            "To hear these details again, press nine. If you have any questions, please call us \
             at 6 5, 6 5 5 5, 1 2 3 4."
        ),
        "{}",
        prompts[0]
    );
    assert!(
        prompts[1].ends_with("please call us on 6 5, 6 5 5 5, 1 2 3 4."),
        "{}",
        prompts[1]
    );
    assert!(
        prompts[2].ends_with("重听预约信息请按9。如有疑问，请致电6 5，6 5 5 5，1 2 3 4。"),
        "{}",
        prompts[2]
    );
}

#[test]
fn without_repeats_allowed_no_template_offers_nine() {
    let settings = CatalogSettings {
        max_repeats: 0,
        ..CatalogSettings::default()
    };
    let catalog = Catalog::load(&settings).unwrap();
    let script = Call::new("restaurant", "en-US").render(&catalog).unwrap();
    assert_eq!((script.menu.repeat, script.max_repeats), (false, 0));
    assert!(
        !script.texts.prompt.contains("nine"),
        "{}",
        script.texts.prompt
    );
    assert_eq!(&*script.texts.repeat_prefix, "");
}

#[test]
fn a_medical_cancellation_asks_again_and_one_keeps_the_appointment() {
    let catalog = Catalog::builtin(2);
    let script = Call::new("medical", "en-US").render(&catalog).unwrap();

    let asked = machine::on_keys(&script, &IvrState::placed(), Some("0"), None);
    let kept = machine::on_keys(&script, &asked.state, Some("1"), None);

    assert_eq!(
        serde_json::to_value(&asked.reply).unwrap(),
        json!({
            "clientActionId": "A1_20250420_1930_Bright_Smile_Dental.confirm_cancel.2",
            "callflow": [{
                "action": "sayAndCapture",
                "params": {
                    "promptMessage": "You pressed zero to cancel the appointment. To cancel it, press zero again. To keep it, press one.",
                    "voiceProfile": "en-US-BenjaminRUS",
                    "repetition": 2,
                    "speed": 1,
                    "minDigits": 1,
                    "maxDigits": 1,
                    "digitTimeout": 10000,
                    "overallTimeout": 10000,
                    "completeOnHash": false,
                    "noOfTries": 2,
                    "successMessage": null,
                    "failureMessage": "Sorry, that is not a valid choice. Please try again."
                }
            }]
        })
    );
    assert_eq!(
        serde_json::to_value(&kept.reply).unwrap(),
        json!({
            "clientActionId": "A1_20250420_1930_Bright_Smile_Dental",
            "callflow": [
                {"action": "say", "params": {
                    "text": "Thank you. The appointment is still booked, and we look forward to seeing you.",
                    "voiceProfile": "en-US-BenjaminRUS", "repetition": 1, "speed": 1}},
                {"action": "hangup"}
            ]
        })
    );
}

#[test]
fn the_catalog_lists_its_languages_with_clocks_voices_and_examples() {
    let catalog = Catalog::builtin(2);
    assert_eq!(
        serde_json::to_value(catalog.supported_languages()).unwrap(),
        json!([
            {"tag": "en-US", "name": "English (United States)", "voiceProfile": "en-US-BenjaminRUS", "clock": "12-hour", "dateExample": "April 20th, 2025", "timeExample": "7:30 PM"},
            {"tag": "en-GB", "name": "English (United Kingdom)", "voiceProfile": "en-GB-HazelRUS", "clock": "12-hour", "dateExample": "20th April 2025", "timeExample": "7:30 pm"},
            {"tag": "es-ES", "name": "Spanish (Spain)", "voiceProfile": "es-ES-HelenaRUS", "clock": "24-hour", "dateExample": "20 de abril de 2025", "timeExample": "las 19:30"},
            {"tag": "fr-FR", "name": "French (France)", "voiceProfile": "fr-FR-HortenseRUS", "clock": "24-hour", "dateExample": "20 avril 2025", "timeExample": "19 h 30"},
            {"tag": "de-DE", "name": "German (Germany)", "voiceProfile": "de-DE-HeddaRUS", "clock": "24-hour", "dateExample": "20. April 2025", "timeExample": "19:30 Uhr"},
            {"tag": "zh-CN", "name": "Chinese (Mainland China, Mandarin)", "voiceProfile": "zh-CN-HuihuiRUS", "clock": "12-hour", "dateExample": "2025年4月20日", "timeExample": "晚上7点30分"},
            {"tag": "ja-JP", "name": "Japanese (Japan)", "voiceProfile": "ja-JP-HarukaRUS", "clock": "12-hour", "dateExample": "2025年4月20日", "timeExample": "午後7時30分"}
        ])
    );
    assert_eq!(catalog.default_template(), "default");
}

#[test]
fn an_unknown_session_hears_an_apology_in_the_default_language() {
    assert_eq!(
        serde_json::to_value(Catalog::builtin(2).unknown_session_reply()).unwrap(),
        json!({
            "clientActionId": "unknown-session",
            "callflow": [
                {"action": "say", "params": {
                    "text": "Sorry, we could not find your appointment. Goodbye.",
                    "voiceProfile": "en-US-BenjaminRUS", "repetition": 1, "speed": 1}},
                {"action": "hangup"}
            ]
        })
    );
}

// ---------------------------------------------------------------------------------------------
// The templates file
// ---------------------------------------------------------------------------------------------

/// A fresh directory for one test's files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("callconfirm-catalog-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load(path: &Path) -> Result<Catalog, callconfirm::ivr::CatalogError> {
    Catalog::load(&CatalogSettings {
        templates_file: Some(path.to_owned()),
        ..CatalogSettings::default()
    })
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates.example.toml")
}

#[test]
fn the_example_templates_file_loads_and_its_custom_template_speaks() {
    let catalog = load(&example_path()).unwrap();
    assert_eq!(
        catalog.template_names(),
        [
            "default",
            "medical",
            "my_clinic",
            "professional",
            "restaurant",
            "salon",
            "vehicle_service",
            "yoga_class"
        ]
    );
    let mut call = Call::new("my_clinic", "en-US");
    call.customer = Some("Anna Lee".to_owned());
    call.staff_phone = Some(phone("+65 9123 4567"));
    call.callback = Some(phone("+65 6555 1234"));
    let script = call.render(&catalog).unwrap();

    assert_eq!(
        first_capture(&script),
        json!({
            "action": "sayAndCapture",
            "params": {
                "promptMessage": "Hello, this is Bright Smile Dental with a reminder about your visit. Your visit is on Sunday, April 20th, 2025 at 7:30 PM. To confirm the appointment, press one. To cancel it, press zero. To hear these details again, press nine. If you have any questions, please call us at 6 5, 6 5 5 5, 1 2 3 4.",
                "voiceProfile": "en-US-ZiraRUS",
                "repetition": 2,
                "speed": 0.9,
                "minDigits": 1,
                "maxDigits": 1,
                "digitTimeout": 10000,
                "overallTimeout": 10000,
                "completeOnHash": false,
                "noOfTries": 2,
                "successMessage": null,
                "failureMessage": "Sorry, that is not a valid choice. Please try again."
            }
        })
    );
    assert_eq!(
        (
            script.menu.staff,
            script.menu.confirm_cancel,
            script.staff_phone
        ),
        (false, true, None)
    );
    assert_eq!(
        &*script.texts.confirmed,
        "Thank you, your visit is confirmed. Please arrive ten minutes early."
    );

    // Languages it does not override come from medical, with the file's voices.
    let british = Call::new("my_clinic", "en-GB").render(&catalog).unwrap();
    assert_eq!(&*british.voice_profile, "en-GB-Emma");
    assert!(
        british
            .texts
            .prompt
            .starts_with("Hello, this is Bright Smile Dental with an appointment reminder.")
    );

    // The built-in override changes one reply and nothing else.
    let restaurant = Call::new("restaurant", "en-US").render(&catalog).unwrap();
    let builtin = Call::new("restaurant", "en-US")
        .render(&Catalog::builtin(2))
        .unwrap();
    assert_eq!(
        &*restaurant.texts.confirmed,
        "Thank you, your table is confirmed. Our chef looks forward to cooking for you."
    );
    assert_eq!(restaurant.texts.prompt, builtin.texts.prompt);

    // The template written from scratch speaks English only.
    let yoga = Call::new("yoga_class", "en-US").render(&catalog).unwrap();
    assert_eq!(
        &*yoga.texts.prompt,
        "Hi, this is Bright Smile Dental about your yoga class. Your class is on Sunday, April \
         20th, 2025 at 7:30 PM. To keep your spot, press one. To free it for someone else, press \
         zero."
    );
    assert_eq!(
        Call::new("yoga_class", "fr-FR").render(&catalog),
        Err(vec![FieldError::new(
            "language",
            "template \"yoga_class\" has no fr-FR texts; it speaks: en-US"
        )])
    );
}

#[test]
fn a_yaml_templates_file_means_the_same_as_its_toml_twin() {
    let scratch = Scratch::new("yaml-twin");
    let yaml = scratch.write(
        "templates.yml",
        r#"
# The same templates as templates.example.toml, in YAML.
voice_profiles:
  en-GB: en-GB-Emma
templates:
  my_clinic:
    extends: medical
    description: "Our clinic: the medical template, a little slower, without the staff option."
    speed: 0.9
    menu:
      staff: false
    voice_profiles:
      en-US: en-US-ZiraRUS
    languages:
      en-US:
        prompt: "Hello, this is {business} with a reminder about your visit. Your visit is on {weekday}, {date} at {time}."
        confirmed: Thank you, your visit is confirmed. Please arrive ten minutes early.
      es-ES:
        prompt: "Hola, le llamamos de {business} para recordarle su visita. La visita es el {weekday} {date} a {time}."
        confirmed: Gracias, su visita queda confirmada. Le rogamos que llegue diez minutos antes.
  restaurant:
    languages:
      en-US:
        confirmed: Thank you, your table is confirmed. Our chef looks forward to cooking for you.
  yoga_class:
    description: "Yoga studio: a class booking, 1 or 0 only."
    minimal: false
    menu: {repeat: false, staff: false, confirm_cancel: false}
    languages:
      en-US:
        prompt: "Hi, this is {business} about your yoga class. [{customer}, your|Your] class[ with {staff}] is on {weekday}, {date} at {time}."
        menu_confirm: To keep your spot, press one.
        menu_cancel: To free it for someone else, press zero.
        callback: "Questions? Call us at {callback}."
        reprompt_prefix: Sorry, we didn't catch that.
        confirmed: Great, see you on the mat!
        cancelled: Your spot has been released. Thanks for letting us know.
        goodbye: We didn't hear back, so your spot is still booked. Goodbye.
        failure_message: Sorry, that is not a valid choice.
"#,
    );
    let from_toml = load(&example_path()).unwrap();
    let from_yaml = load(&yaml).unwrap();

    assert_eq!(from_yaml.template_names(), from_toml.template_names());
    assert_eq!(
        serde_json::to_value(from_yaml.templates()).unwrap(),
        serde_json::to_value(from_toml.templates()).unwrap()
    );
    for template in from_toml.template_names() {
        for language in LANGUAGES {
            let mut call = Call::new(&template, language);
            call.customer = Some("Anna".to_owned());
            call.staff = Some("Maria".to_owned());
            call.callback = Some(phone("+65 6555 1234"));
            call.staff_phone = Some(phone("+65 9123 4567"));
            assert_eq!(
                call.render(&from_yaml),
                call.render(&from_toml),
                "{template} {language}"
            );
        }
    }
}

/// Loads `text` as `name` and returns its problems, with the scratch path shortened to the
/// file name so that the expected messages read as an operator sees them.
fn problems_of(test: &str, name: &str, text: &str) -> Vec<String> {
    let scratch = Scratch::new(test);
    let path = scratch.write(name, text);
    let error = load(&path).expect_err("the file should be refused");
    let shown = path.display().to_string();
    // One message lists every problem, one per line.
    assert_eq!(error.to_string(), error.problems().join("\n"));
    error
        .problems()
        .iter()
        .map(|problem| problem.replace(&shown, name))
        .collect()
}

#[test]
fn an_unknown_placeholder_is_refused_naming_file_template_and_field() {
    assert_eq!(
        problems_of(
            "unknown-placeholder",
            "templates.toml",
            r#"
            [templates.my_clinic]
            extends = "medical"
            [templates.my_clinic.languages.es-ES]
            prompt = "Hola, le llamamos de {business}. Su cita con {doctor} es el {date}."
            "#
        ),
        [
            "templates.toml: template \"my_clinic\", field \"languages.es-ES.prompt\": unknown \
          placeholder {doctor}; known placeholders: {business}, {date}, {time}, {weekday}, \
          {customer}, {staff}, {callback}"
        ]
    );
}

#[test]
fn a_missing_language_text_is_refused() {
    assert_eq!(
        problems_of(
            "missing-text",
            "templates.toml",
            r#"
            [templates.quick]
            menu = { staff = true }
            [templates.quick.languages.en-US]
            prompt = "Hello, this is {business} about {date} at {time}."
            menu_confirm = "Press one to confirm."
            menu_cancel = "Press zero to cancel."
            menu_staff = "Press two for us."
            callback = "Call {callback}."
            reprompt_prefix = "Sorry."
            cancelled = "Cancelled."
            goodbye = "Goodbye."
            failure_message = "Try again."
            "#
        ),
        [
            "templates.toml: template \"quick\", field \"languages.en-US.confirmed\": missing; \
             every language of a template needs this text",
            "templates.toml: template \"quick\", field \"languages.en-US.transferring\": missing; \
             the menu offers staff, so every language needs this text",
        ]
    );
}

#[test]
fn a_prompt_of_3001_characters_is_refused() {
    let long = format!("{{business}} {}", "a".repeat(2990));
    assert_eq!(
        problems_of(
            "long-prompt",
            "templates.toml",
            &format!("[templates.medical.languages.en-US]\nprompt = \"{long}\"\n")
        ),
        [
            "templates.toml: template \"medical\", field \"languages.en-US.prompt\": too long: \
          repeat_prefix + prompt would be 3265 characters even with one-letter names; 8x8 \
          speaks at most 3000"
        ]
    );
}

#[test]
fn a_speed_outside_eight_by_eight_s_range_is_refused() {
    assert_eq!(
        problems_of(
            "bad-speed",
            "templates.yaml",
            "templates:\n  fast:\n    extends: default\n    speed: 2.5\n"
        ),
        [
            "templates.yaml: template \"fast\", field \"speed\": must be between 0.5 and 2 (8x8's \
          range), found 2.5"
        ]
    );
}

#[test]
fn an_unknown_default_template_is_refused() {
    assert_eq!(
        problems_of(
            "unknown-default",
            "templates.toml",
            "default_template = \"my_clinik\"\n"
        ),
        [
            "templates.toml: field \"default_template\": unknown template \"my_clinik\"; known \
          templates: default, medical, restaurant, salon, vehicle_service, professional"
        ]
    );
    assert_eq!(
        Catalog::load(&CatalogSettings {
            default_template: Some("spa".to_owned()),
            ..CatalogSettings::default()
        })
        .err()
        .map(|error| error.to_string()),
        Some(
            "DEFAULT_TEMPLATE: unknown template \"spa\"; known templates: default, medical, \
             restaurant, salon, vehicle_service, professional"
                .to_owned()
        )
    );
}

#[test]
fn the_default_template_can_be_chosen_by_the_file_or_the_settings() {
    let scratch = Scratch::new("default-choice");
    let path = scratch.write("templates.toml", "default_template = \"salon\"\n");
    assert_eq!(load(&path).unwrap().default_template(), "salon");
    let settings = CatalogSettings {
        templates_file: Some(path),
        default_template: Some("medical".to_owned()),
        ..CatalogSettings::default()
    };
    let catalog = Catalog::load(&settings).unwrap();
    assert_eq!(catalog.default_template(), "medical");
    let mut call = Call::new("x", "en-US");
    call.template = None;
    assert_eq!(&*call.render(&catalog).unwrap().template, "medical");
}

#[test]
fn every_problem_of_a_file_is_listed_in_one_message() {
    let problems = problems_of(
        "many-problems",
        "templates.toml",
        r#"
        [voice_profiles]
        es-ES = "en-US-ZiraRUS"
        [templates.chatty]
        extends = "restaurant"
        minimal = true
        [templates.leaky]
        extends = "default"
        [templates.leaky.languages.en-US]
        prompt = "Hi {customer}, this is {business} about {date}."
        [templates.lost]
        extends = "spa"
        [templates.salon]
        extends = "medical"
        [templates.medical.voice_profiles]
        de-DE = ""
        "#,
    );
    let expected = [
        "templates.toml: template \"medical\", field \"voice_profiles.de-DE\": \"\" is not an \
         8x8 voice profile code (like de-DE-HeddaRUS)",
        "templates.toml: template \"salon\", field \"extends\": this template overrides the \
         built-in of the same name, so it cannot extend another; give it a new name to start \
         from another template",
        "templates.toml: template \"chatty\", field \"languages.de-DE.prompt\": {customer} \
         cannot be spoken by a minimal template, which says only the business, the date and the \
         time (text inherited from the built-in template \"restaurant\")",
        "templates.toml: template \"chatty\", field \"languages.ja-JP.transferring\": {staff} \
         cannot be spoken by a minimal template, which says only the business, the date and the \
         time (text inherited from the built-in template \"restaurant\")",
        "templates.toml: template \"leaky\", field \"languages.en-US.prompt\": {customer} is in \
         the first sentence; a stranger or a voicemail may be listening, so the first sentence \
         names only the business and the purpose",
        "templates.toml: template \"lost\", field \"extends\": unknown template \"spa\"; extends \
         names a built-in template: default, medical, restaurant, salon, vehicle_service, \
         professional",
        "templates.toml: field \"voice_profiles.es-ES\": voice profile \"en-US-ZiraRUS\" does \
         not speak es-ES (its code must start with \"es-\")",
    ];
    for problem in expected {
        assert!(
            problems.contains(&problem.to_owned()),
            "{problem}\nnot in\n{problems:#?}"
        );
    }
    // chatty: {customer} or {staff} in prompt, menu_staff and transferring of 7 languages.
    assert_eq!(problems.len(), 5 + 3 * 7, "{problems:#?}");
}

#[test]
fn a_template_that_needs_the_customer_name_refuses_a_call_without_one() {
    let scratch = Scratch::new("needs-customer");
    let path = scratch.write(
        "templates.toml",
        r#"
        [templates.vip]
        extends = "restaurant"
        [templates.vip.languages.en-US]
        prompt = "Hello, this is {business} about your table. {customer}, it is ready for you on {date} at {time}."
        "#,
    );
    let catalog = load(&path).unwrap();
    let mut call = Call::new("vip", "en-US");

    assert_eq!(
        call.render(&catalog),
        Err(vec![FieldError::new(
            "customerName",
            "required by template \"vip\", which speaks {customer} in en-US"
        )])
    );
    // Languages it inherits greet by name only when they can.
    assert!(Call::new("vip", "fr-FR").render(&catalog).is_ok());

    call.customer = Some("Anna Lee".to_owned());
    assert!(
        call.render(&catalog).unwrap().texts.prompt.starts_with(
            "Hello, this is Bright Smile Dental about your table. Anna Lee, it is ready"
        )
    );
}

#[test]
fn a_template_without_english_speaks_its_own_language_when_none_is_asked_for() {
    let scratch = Scratch::new("no-english");
    let path = scratch.write(
        "templates.yaml",
        r#"
templates:
  bistro:
    languages:
      fr-FR:
        prompt: "Bonjour, ici {business}, au sujet de votre table du {date} à {time}."
        menu_confirm: Pour confirmer, appuyez sur 1.
        menu_cancel: Pour annuler, appuyez sur 0.
        callback: "Pour toute question, appelez-nous au {callback}."
        reprompt_prefix: Désolé, nous n'avons pas compris.
        confirmed: Merci, à bientôt.
        cancelled: Votre réservation est annulée.
        goodbye: Au revoir.
        failure_message: Choix non valide.
"#,
    );
    let catalog = load(&path).unwrap();
    let mut call = Call::new("bistro", "en-US");
    call.language = None;
    let script = call.render(&catalog).unwrap();
    assert_eq!(
        (
            &*script.language,
            &*script.voice_profile,
            &*script.texts.prompt
        ),
        (
            "fr-FR",
            "fr-FR-HortenseRUS",
            "Bonjour, ici Bright Smile Dental, au sujet de votre table du 20 avril 2025 à 19 h 30. \
             Pour confirmer, appuyez sur 1. Pour annuler, appuyez sur 0."
        )
    );
}

#[test]
fn a_templates_file_must_be_toml_or_yaml_and_must_exist() {
    let scratch = Scratch::new("format");
    let text = scratch.write("templates.json", "{}");
    assert_eq!(
        load(&text).expect_err("json is refused").problems(),
        [format!(
            "{}: unknown format; name the templates file *.toml, *.yaml or *.yml",
            text.display()
        )]
    );
    let missing = scratch.0.join("nowhere.toml");
    let problems = load(&missing)
        .expect_err("a missing file is refused")
        .problems()
        .to_vec();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with(&format!("{}: cannot be read: ", missing.display())),
        "{problems:?}"
    );
}
