//! Decoder tests: the documentation fixtures, every type and mismatch, envelope variations,
//! batching, and malformed or truncated bodies.

use super::*;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDate;

/// Reads a fixture copied into `tests/fixtures/graph/`.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes `body` with the buffered decoder, after checking that the streaming decoder agrees
/// on it, fed in chunks of several sizes (1 byte included) and cut into segments of several
/// sizes (every row included): same result value for value, or the same kind of error. Every
/// test here thus checks both paths.
fn decode(body: &[u8], opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let whole = super::decode(body, opts);
    let chunks: &[usize] = if body.len() <= 4_096 {
        &[1, 2, 3, 7, 64, usize::MAX]
    } else {
        &[1_000, 65_536, usize::MAX]
    };
    for &chunk in chunks {
        for segment in [1, 100, SEGMENT_BYTES] {
            let streamed = stream_decode(body, opts, chunk, segment);
            let what = format!("chunks of {chunk}, segments of {segment}");
            same_outcome(&whole, &streamed, &what, body);
        }
    }
    whole
}

/// Decodes `body` pushed in `chunk`-byte pieces, keeping the batches, after checking that the
/// two-thread decoder (`pipeline`) gives exactly the same outcome: the same values, or the same
/// error with the same offset and message.
pub(super) fn stream_decode(
    body: &[u8],
    opts: &DecodeOptions,
    chunk: usize,
    segment: usize,
) -> Result<Decoded, DecodeError> {
    let one = one_thread(body, opts, chunk, segment);
    let two = two_threads(body, opts, chunk, segment);
    let what = format!("two threads, chunks of {chunk}, segments of {segment}");
    same_outcome(&one, &two, &what, body);
    if let (Err(a), Err(b)) = (&one, &two) {
        assert_eq!(a.to_string(), b.to_string(), "{what}");
    }
    one
}

fn one_thread(
    body: &[u8],
    opts: &DecodeOptions,
    chunk: usize,
    segment: usize,
) -> Result<Decoded, DecodeError> {
    keeping_batches(|spool, keep| {
        let mut dec = StreamDecoder::new(opts, spool, keep).with_segment_bytes(segment);
        body.chunks(chunk.max(1)).try_for_each(|c| dec.feed(c)).and_then(|()| dec.finish())
    })
}

fn two_threads(
    body: &[u8],
    opts: &DecodeOptions,
    chunk: usize,
    segment: usize,
) -> Result<Decoded, DecodeError> {
    keeping_batches(|spool, keep| {
        let mut chunks = body.chunks(chunk.max(1));
        let next = move || chunks.next().map_or(pipeline::Next::End, pipeline::Next::Chunk);
        pipeline::decode_stream_with(opts, spool, segment, next, keep)
    })
}

/// Runs a streaming `decode` with a fresh spool folder and a sink that keeps the batches (put
/// back into the result), and checks that the spool folder is left empty.
fn keeping_batches(
    decode: impl FnOnce(
        std::path::PathBuf,
        &mut dyn FnMut(RecordBatch) -> Result<(), arrow_schema::ArrowError>,
    ) -> Result<Decoded, DecodeError>,
) -> Result<Decoded, DecodeError> {
    let spool = tempfile::tempdir().unwrap();
    let mut batches = Vec::new();
    let result = decode(spool.path().to_owned(), &mut |b| {
        batches.push(b);
        Ok(())
    });
    assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0, "the spool file is removed");
    result.map(|mut d| {
        d.batches = batches;
        d
    })
}

/// Asserts two outcomes are the same (values, or kind of error).
pub(super) fn same_outcome(
    whole: &Result<Decoded, DecodeError>,
    streamed: &Result<Decoded, DecodeError>,
    what: &str,
    body: &[u8],
) {
    let body = String::from_utf8_lossy(&body[..body.len().min(300)]);
    match (whole, streamed) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.columns, b.columns, "{what}: {body}");
            assert_eq!(a.schema, b.schema, "{what}: {body}");
            assert_eq!(a.batches, b.batches, "{what}: {body}");
            assert_eq!(
                (a.rows, a.mismatched_cells),
                (b.rows, b.mismatched_cells),
                "{what}: {body}"
            );
        }
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "{what}: {a} / {b}: {body}"
        ),
        (a, b) => panic!(
            "{what}: buffered {:?} but streamed {:?}: {body}",
            a.as_ref().err(),
            b.as_ref().err()
        ),
    }
}

pub(super) fn decode_both(body: &[u8], opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    decode(body, opts)
}

fn dec(body: &str) -> Decoded {
    decode(body.as_bytes(), &DecodeOptions::default()).expect("decodes")
}

/// One column across all batches.
fn column(d: &Decoded, name: &str) -> ArrayRef {
    let i = d.schema.index_of(name).expect("column exists");
    let parts: Vec<&dyn Array> = d.batches.iter().map(|b| b.column(i).as_ref()).collect();
    if parts.is_empty() {
        return arrow_array::new_empty_array(d.schema.field(i).data_type());
    }
    arrow_select::concat::concat(&parts).unwrap()
}

fn strings(d: &Decoded, name: &str) -> Vec<Option<String>> {
    column(d, name).as_string::<i32>().iter().map(|v| v.map(str::to_owned)).collect()
}

fn nanos(d: &Decoded, name: &str) -> Vec<Option<i64>> {
    column(d, name).as_primitive::<TimestampNanosecondType>().iter().collect()
}

fn i64s(d: &Decoded, name: &str) -> Vec<Option<i64>> {
    column(d, name).as_primitive::<Int64Type>().iter().collect()
}

fn i32s(d: &Decoded, name: &str) -> Vec<Option<i32>> {
    column(d, name).as_primitive::<Int32Type>().iter().collect()
}

fn f64s(d: &Decoded, name: &str) -> Vec<Option<f64>> {
    column(d, name).as_primitive::<Float64Type>().iter().collect()
}

fn bools(d: &Decoded, name: &str) -> Vec<Option<bool>> {
    column(d, name).as_boolean().iter().collect()
}

/// Nanoseconds since the epoch, computed without parsing text.
fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ns: u32) -> Option<i64> {
    NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_nano_opt(h, mi, s, ns)
        .unwrap()
        .and_utc()
        .timestamp_nanos_opt()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

const THREE_COLUMNS: [&str; 3] = ["Timestamp", "FileName", "InitiatingProcessFileName"];

fn assert_three_string_schema(d: &Decoded) {
    let names: Vec<&str> = d.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, THREE_COLUMNS);
    let types: Vec<&str> = d.columns.iter().map(|c| c.service_type.as_str()).collect();
    assert_eq!(types, ["DateTime", "String", "String"]);
    assert_eq!(
        d.schema.field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
    assert_eq!(d.schema.field(1).data_type(), &DataType::Utf8);
    assert_eq!(d.mismatched_cells, 0);
}

#[test]
fn fixture_v1_example1_lowercase_schema() {
    let d =
        decode(&fixture("runHuntingQuery.v1.0.response.example1.json"), &DecodeOptions::default())
            .unwrap();
    assert_three_string_schema(&d);
    assert_eq!(d.rows, 2);
    assert_eq!(
        nanos(&d, "Timestamp"),
        [ts(2024, 3, 26, 9, 39, 50, 768_864_100), ts(2024, 3, 26, 9, 39, 49, 435_378_800)]
    );
    assert_eq!(strings(&d, "FileName"), [s("cmd.exe"), s("cmd.exe")]);
    assert_eq!(
        strings(&d, "InitiatingProcessFileName"),
        [s("powershell.exe"), s("powershell.exe")]
    );
}

#[test]
fn fixture_v1_example2_timespan() {
    let d = decode(
        &fixture("runHuntingQuery.v1.0.response.example2-timespan.json"),
        &DecodeOptions::default(),
    )
    .unwrap();
    assert_three_string_schema(&d);
    assert_eq!(d.rows, 4);
    assert_eq!(
        nanos(&d, "Timestamp"),
        [
            ts(2024, 12, 26, 9, 39, 50, 768_864_100),
            ts(2024, 9, 26, 9, 39, 49, 435_378_800),
            ts(2024, 6, 26, 9, 39, 49, 435_378_800),
            ts(2024, 3, 26, 9, 39, 49, 435_378_800),
        ]
    );
    assert_eq!(
        strings(&d, "FileName"),
        [s("cmd.exe"), s("explorer.exe"), s("notepad.exe"), s("cmd.exe")]
    );
    assert_eq!(
        strings(&d, "InitiatingProcessFileName"),
        [s("powershell.exe"), s("cmd.exe"), s("explorer.exe"), s("powershell.exe")]
    );
}

#[test]
fn fixtures_with_pascal_case_schema() {
    for name in [
        "runHuntingQuery.v1.0.response.annotated-block-PascalCaseSchema.json",
        "runHuntingQuery.beta.response.json",
    ] {
        let d = decode(&fixture(name), &DecodeOptions::default()).unwrap();
        assert_three_string_schema(&d);
        assert_eq!(d.rows, 2, "{name}");
        assert_eq!(
            nanos(&d, "Timestamp"),
            [ts(2020, 8, 30, 6, 38, 35, 766_435_600), ts(2020, 8, 30, 6, 38, 30, 516_336_300)],
            "{name}"
        );
        assert_eq!(strings(&d, "FileName"), [s("conhost.exe"), s("conhost.exe")]);
        assert_eq!(
            strings(&d, "InitiatingProcessFileName"),
            [s("powershell.exe"), s("powershell.exe")]
        );
    }
}

#[test]
fn fixture_resource_representations() {
    // Schema entries without a name are skipped; the row's `@odata.type` key is ignored.
    let d = decode(
        &fixture("resource.huntingQueryResults.v1.0.json-representation.json"),
        &DecodeOptions::default(),
    )
    .unwrap();
    assert!(d.columns.is_empty());
    assert_eq!(d.rows, 1);
    assert_eq!(d.batches.len(), 1);
    assert_eq!(d.batches[0].num_rows(), 1);
    // A lone schema entry is not a response.
    let err = decode(
        &fixture("resource.singlePropertySchema.v1.0.json-representation.json"),
        &DecodeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, DecodeError::MissingSchema), "{err}");
}

#[test]
fn results_before_schema_and_other_keys_ignored() {
    let d = dec(
        r#"{"results":[{"A":"x","B":1}],"Stats":{"x":[1,2]},"schema":[{"name":"A","type":"String"},{"name":"B","type":"Int64"}],"@odata.context":"c"}"#,
    );
    assert_eq!(d.rows, 1);
    assert_eq!(strings(&d, "A"), [s("x")]);
    assert_eq!(i64s(&d, "B"), [Some(1)]);
    // Capitalised envelope keys, mixed entry keys.
    let d = dec(r#"{"Results":[{"A":"y"}],"Schema":[{"Type":"String","Name":"A"}]}"#);
    assert_eq!(strings(&d, "A"), [s("y")]);
}

#[test]
fn byte_order_mark_is_skipped() {
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(br#"{"schema":[{"name":"A","type":"String"}],"results":[{"A":"x"}]}"#);
    let d = decode(&body, &DecodeOptions::default()).unwrap();
    assert_eq!(strings(&d, "A"), [s("x")]);
    body.truncate(20);
    assert_eq!(offset_of(&body), 20);
    let body = b"\xEF\xBB\xBF{\"schema\":[],\"results\":[1]}";
    let at = body.iter().position(|&c| c == b'1').unwrap();
    assert_eq!(offset_of(body), at);
}

#[test]
fn annotation_and_unknown_keys_are_skipped() {
    let d = dec(r##"{"schema":[{"name":"ProcessId","type":"Int64"},{"name":"N","type":"String"}],
            "results":[{"ProcessId@odata.type":"#Int64","ProcessId":4780,"Extra":{"deep":[1,{"a":2}]},"N":"n"},
                       {"N":"m","ProcessId@odata.type":"#Int64","ProcessId":"12"}]}"##);
    assert_eq!(i64s(&d, "ProcessId"), [Some(4780), Some(12)]);
    assert_eq!(strings(&d, "N"), [s("n"), s("m")]);
    assert_eq!(d.mismatched_cells, 0);
}

#[test]
fn missing_keys_and_nulls_are_null() {
    let d = dec(
        r#"{"schema":[{"name":"T","type":"DateTime"},{"name":"S","type":"String"},{"name":"I","type":"Int64"},{"name":"D","type":"Dynamic"}],
            "results":[{},{"S":null,"I":null,"T":null,"D":null},{"T":"2024-01-01T00:00:00Z"}]}"#,
    );
    assert_eq!(d.rows, 3);
    assert_eq!(nanos(&d, "T"), [None, None, ts(2024, 1, 1, 0, 0, 0, 0)]);
    assert_eq!(strings(&d, "S"), [None, None, None]);
    assert_eq!(i64s(&d, "I"), [None, None, None]);
    assert_eq!(strings(&d, "D"), [None, None, None]);
    assert_eq!(d.mismatched_cells, 0);
}

#[test]
fn every_type_and_its_mismatches() {
    let body = r#"{"schema":[
        {"name":"S","type":"String"},{"name":"G","type":"Guid"},{"name":"Span","type":"TimeSpan"},
        {"name":"Dec","type":"Decimal"},{"name":"T","type":"DateTime"},{"name":"L","type":"Int64"},
        {"name":"U32","type":"UInt32"},{"name":"I","type":"Int32"},{"name":"F","type":"Double"},
        {"name":"Sg","type":"Single"},{"name":"B","type":"Boolean"},{"name":"SB","type":"SByte"},
        {"name":"Dyn","type":"Dynamic"},{"name":"Obj","type":"Object"},{"name":"New","type":"Hyperloglog"}],
      "results":[
        {"S":"plain","G":"0b2c5d1e-0000-4000-8000-000000000001","Span":"1.02:03:04.5000000","Dec":"12.50",
         "T":"2024-03-26T09:39:50.7688641Z","L":9223372036854775807,"U32":4294967295,"I":-2147483648,
         "F":1.5,"Sg":-0.25,"B":true,"SB":1,
         "Dyn":{"a":[1,2,{"b":null}],"c":"d\"e"},"Obj":[1,"x",true],"New":"text value"},
        {"S":{"k":1},"G":42,"Span":true,"Dec":12345678901234567890.123456789,
         "T":"yesterday","L":"123","U32":1.0,"I":2147483648,
         "F":"NaN","Sg":"Infinity","B":"TRUE","SB":0,
         "Dyn":"a \"quoted\" string","Obj":12.50,"New":false},
        {"S":[1,2],"G":null,"Span":null,"Dec":1e400,
         "T":12,"L":"12x","U32":1.5,"I":"77","F":"-Infinity","Sg":"2.5e3","B":"false","SB":"1",
         "Dyn":-7,"Obj":null,"New":{"x":{}}},
        {"L":{"a":1},"I":[1],"F":true,"B":2,"SB":"yes","T":{"x":1},
         "Dyn":"","S":"","Dec":"-0.0"},
        {"L":18446744073709551615,"I":-2147483649,"F":"1e5","B":0,"L":-9223372036854775808}
      ]}"#;
    let d = dec(body);
    assert_eq!(d.rows, 5);
    assert_eq!(strings(&d, "S"), [s("plain"), s(r#"{"k":1}"#), s("[1,2]"), s(""), None]);
    assert_eq!(
        strings(&d, "G"),
        [s("0b2c5d1e-0000-4000-8000-000000000001"), s("42"), None, None, None]
    );
    assert_eq!(strings(&d, "Span"), [s("1.02:03:04.5000000"), s("true"), None, None, None]);
    // Numbers in a text column keep their exact JSON text, even beyond f64.
    assert_eq!(
        strings(&d, "Dec"),
        [s("12.50"), s("12345678901234567890.123456789"), s("1e400"), s("-0.0"), None]
    );
    assert_eq!(nanos(&d, "T"), [ts(2024, 3, 26, 9, 39, 50, 768_864_100), None, None, None, None]);
    // The last row repeats "L": the last value wins.
    assert_eq!(i64s(&d, "L"), [Some(i64::MAX), Some(123), None, None, Some(i64::MIN)]);
    assert_eq!(i64s(&d, "U32"), [Some(4_294_967_295), Some(1), None, None, None]);
    assert_eq!(i32s(&d, "I"), [Some(i32::MIN), None, Some(77), None, None]);
    let f = f64s(&d, "F");
    assert_eq!(f[0], Some(1.5));
    assert!(f[1].unwrap().is_nan());
    assert_eq!(&f[2..], [Some(f64::NEG_INFINITY), None, Some(100_000.0)]);
    assert_eq!(f64s(&d, "Sg"), [Some(-0.25), Some(f64::INFINITY), Some(2500.0), None, None]);
    assert_eq!(bools(&d, "B"), [Some(true), Some(true), Some(false), None, Some(false)]);
    assert_eq!(bools(&d, "SB"), [Some(true), Some(false), Some(true), None, None]);
    assert_eq!(
        strings(&d, "Dyn"),
        [
            s(r#"{"a":[1,2,{"b":null}],"c":"d\"e"}"#),
            s(r#"a "quoted" string"#),
            s("-7"),
            s(""),
            None
        ]
    );
    assert_eq!(strings(&d, "Obj"), [s(r#"[1,"x",true]"#), s("12.50"), None, None, None]);
    assert_eq!(strings(&d, "New"), [s("text value"), s("false"), s(r#"{"x":{}}"#), None, None]);
    // Mismatches, counted per cell:
    //   text: S {..}, S [..], G 42, Span true, Dec number x2 (row 2, 3)         = 6
    //   T "yesterday", T 12, T {..}                                             = 3
    //   L "12x", L {..}; the repeated L in row 5 replaced an out-of-range value = 2
    //   U32 1.5                                                                 = 1
    //   I 2147483648, I [1], I -2147483649                                      = 3
    //   F true                                                                  = 1
    //   B 2                                                                     = 1
    //   SB "yes"                                                                = 1
    assert_eq!(d.mismatched_cells, 18);
}

#[test]
fn field_metadata_and_types() {
    let d = dec(
        r#"{"schema":[{"name":"D","type":"dynamic"},{"name":"S","type":"String"},{"name":"X","type":"UInt64"}],"results":[]}"#,
    );
    let f = d.schema.field(0);
    assert!(f.is_nullable());
    assert_eq!(f.metadata().get(SERVICE_TYPE_KEY).map(String::as_str), Some("dynamic"));
    // Dynamic is plain text, with no extension type (Polars cannot use `arrow.json` as text).
    assert_eq!(f.data_type(), &DataType::Utf8);
    assert_eq!(f.metadata().get(EXTENSION_NAME_KEY), None);
    let f = d.schema.field(1);
    assert_eq!(f.metadata().get(SERVICE_TYPE_KEY).map(String::as_str), Some("String"));
    assert_eq!(f.metadata().get(EXTENSION_NAME_KEY), None);
    assert_eq!(d.schema.field(2).metadata().get(EXTENSION_NAME_KEY), None);
    assert_eq!(
        d.schema.field(2).metadata().get(SERVICE_TYPE_KEY).map(String::as_str),
        Some("UInt64")
    );
}

#[test]
fn zero_rows_keep_the_schema() {
    let d = dec(
        r#"{"schema":[{"name":"A","type":"String"},{"name":"B","type":"Int64"}],"results":[]}"#,
    );
    assert_eq!(d.rows, 0);
    assert!(d.batches.is_empty());
    assert_eq!(d.schema.fields().len(), 2);
    assert_eq!(d.columns[1], Column { name: "B".into(), service_type: "Int64".into() });
}

#[test]
fn timestamp_fractions_and_offsets() {
    let d = dec(r#"{"schema":[{"name":"T","type":"DateTime"}],"results":[
        {"T":"2024-03-26T09:39:50.7688641Z"},{"T":"2021-04-26T07:45:50.116Z"},
        {"T":"2021-04-26T07:45:50Z"},{"T":"2021-04-26T07:45:50.123456789Z"},
        {"T":"2021-04-26T09:45:50.5+02:00"},{"T":"2021-04-26 07:45:50.5"},
        {"T":"2021-04-26T07:45:50.5-00:00"},{"T":"2021-04-26T01:45:50.5-06:00"}]}"#);
    let half = ts(2021, 4, 26, 7, 45, 50, 500_000_000);
    assert_eq!(
        nanos(&d, "T"),
        [
            ts(2024, 3, 26, 9, 39, 50, 768_864_100),
            ts(2021, 4, 26, 7, 45, 50, 116_000_000),
            ts(2021, 4, 26, 7, 45, 50, 0),
            ts(2021, 4, 26, 7, 45, 50, 123_456_789),
            half,
            half,
            half,
            half,
        ]
    );
    assert_eq!(d.mismatched_cells, 0);
}

#[test]
fn batches_split_at_batch_rows() {
    let rows: Vec<String> = (0..10).map(|i| format!(r#"{{"N":{i}}}"#)).collect();
    let body =
        format!(r#"{{"schema":[{{"name":"N","type":"Int64"}}],"results":[{}]}}"#, rows.join(","));
    for (batch_rows, sizes) in
        [(3, vec![3, 3, 3, 1]), (5, vec![5, 5]), (10, vec![10]), (100, vec![10]), (0, vec![1; 10])]
    {
        let d = decode(body.as_bytes(), &DecodeOptions { batch_rows }).unwrap();
        let got: Vec<usize> = d.batches.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(got, sizes, "batch_rows {batch_rows}");
        assert_eq!(d.rows, 10);
        assert_eq!(i64s(&d, "N"), (0..10).map(Some).collect::<Vec<_>>());
    }
}

#[test]
fn empty_and_partition_names_are_renamed_and_keep_the_service_name() {
    let d = dec(r#"{"schema":[{"name":"","type":"String"},{"name":"date","type":"String"},
                      {"name":"Tenant","type":"String"},{"name":" ","type":"Int64"}],
            "results":[{"":"e","date":"2026-11-20","Tenant":"t"," ":3}]}"#);
    let names: Vec<&str> = d.schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["column", "date_col", "Tenant_col", "column_2"]);
    let sent: Vec<Option<&str>> = d
        .schema
        .fields()
        .iter()
        .map(|f| f.metadata().get(SERVICE_NAME_KEY).map(String::as_str))
        .collect();
    assert_eq!(sent, [Some(""), Some("date"), Some("Tenant"), Some(" ")]);
    assert_eq!(strings(&d, "column"), [s("e")]);
    assert_eq!(strings(&d, "date_col"), [s("2026-11-20")]);
    assert_eq!(i64s(&d, "column_2"), [Some(3)]);
}

#[test]
fn duplicate_and_case_differing_names() {
    let d = dec(
        r#"{"schema":[{"name":"LogonId","type":"String"},{"name":"LogonID","type":"Int64"},
                      {"name":"A","type":"String"},{"name":"A","type":"Int64"},{"name":"A_2","type":"String"},{"name":"A","type":"String"}],
            "results":[{"LogonID":7,"LogonId":"x","A":"first","A":5,"A_2":"orig","A":"third"},
                       {"A":"only"}]}"#,
    );
    let names: Vec<&str> = d.schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["LogonId", "LogonID", "A", "A_3", "A_2", "A_4"]);
    assert_eq!(d.columns[3].name, "A_3");
    assert_eq!(d.schema.field(3).metadata().get(SERVICE_NAME_KEY).map(String::as_str), Some("A"));
    assert_eq!(d.schema.field(2).metadata().get(SERVICE_NAME_KEY), None);
    assert_eq!(strings(&d, "LogonId"), [s("x"), None]);
    assert_eq!(i64s(&d, "LogonID"), [Some(7), None]);
    assert_eq!(strings(&d, "A"), [s("first"), s("only")]);
    assert_eq!(i64s(&d, "A_3"), [Some(5), None]);
    assert_eq!(strings(&d, "A_2"), [s("orig"), None]);
    assert_eq!(strings(&d, "A_4"), [s("third"), None]);
}

#[test]
fn repeated_key_last_value_wins() {
    let d = dec(
        r#"{"schema":[{"name":"S","type":"String"},{"name":"I","type":"Int64"},{"name":"D","type":"Dynamic"}],
            "results":[{"S":"a","I":"bad","S":"bb","D":[1],"I":2,"D":"z"},{"I":3,"I":{"x":1},"S":null,"S":"c"}]}"#,
    );
    assert_eq!(strings(&d, "S"), [s("bb"), s("c")]);
    assert_eq!(i64s(&d, "I"), [Some(2), None]);
    assert_eq!(strings(&d, "D"), [s("z"), None]);
    // Only the surviving {"x":1} counts; the replaced "bad" does not.
    assert_eq!(d.mismatched_cells, 1);
}

#[test]
fn escapes_in_keys_and_strings() {
    let d = dec(
        r#"{"schema":[{"name":"Path\u00e9","type":"String"},{"name":"Q\"k","type":"Dynamic"}],
            "results":[{"Path\u00e9":"C:\\Windows\\System32\\cmd.exe \u00e9\ud83d\ude00\n\t\/","Q\"k":"\ud800 lone"},
                       {"Pathé":"direct é","Q\u0022k":{"p":"C:\\x"}}]}"#,
    );
    assert_eq!(d.columns[0].name, "Pathé");
    assert_eq!(d.columns[1].name, "Q\"k");
    assert_eq!(strings(&d, "Pathé"), [s("C:\\Windows\\System32\\cmd.exe é😀\n\t/"), s("direct é")]);
    assert_eq!(strings(&d, "Q\"k"), [s("\u{fffd} lone"), s(r#"{"p":"C:\\x"}"#)]);
}

#[test]
fn unescape_edge_cases() {
    let run = |raw: &str| {
        let mut out = Vec::new();
        columns::unescape_into(raw, &mut out);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(run(r"plain"), "plain");
    assert_eq!(run(r"\b\f\r\\"), "\u{8}\u{c}\r\\");
    assert_eq!(run(r"\udc00x"), "\u{fffd}x");
    assert_eq!(run(r"\ud83d\u0041"), "\u{fffd}\\u0041".replace("\\u0041", "A"));
    assert_eq!(run(r"\ud83d"), "\u{fffd}");
    assert_eq!(run(r"bad\q"), "bad\\q");
    assert_eq!(run(r"end\"), "end\\");
    assert_eq!(run(r"\u12"), "\\u12");
}

#[test]
fn missing_parts() {
    let opts = DecodeOptions::default();
    assert!(matches!(decode(br#"{"results":[]}"#, &opts), Err(DecodeError::MissingSchema)));
    assert!(matches!(decode(br#"{"schema":[]}"#, &opts), Err(DecodeError::MissingResults)));
    assert!(matches!(
        decode(br#"{"schema":[],"results":null}"#, &opts),
        Err(DecodeError::MissingResults)
    ));
    assert!(matches!(decode(b"{}", &opts), Err(DecodeError::MissingSchema)));
}

/// The offset a malformed body reports.
fn offset_of(body: &[u8]) -> usize {
    match decode(body, &DecodeOptions::default()) {
        Err(DecodeError::Malformed { offset, .. }) => offset,
        other => {
            panic!("expected Malformed for {:?}, got {other:?}", String::from_utf8_lossy(body))
        }
    }
}

#[test]
fn malformed_offsets_point_at_the_fault() {
    // Truncated: the fault is the end of the body.
    let full = fixture("runHuntingQuery.v1.0.response.example1.json");
    for cut in [0, 1, 10, 100, 200, 400, full.len() - 3] {
        assert_eq!(offset_of(&full[..cut]), cut, "cut at {cut}");
    }
    // A bad byte on a later line.
    let body = b"{\n  \"schema\": [],\n  \"results\": [x]\n}";
    let at = body.iter().position(|&c| c == b'x').unwrap();
    assert_eq!(offset_of(body), at);
    // Wrong shape inside `results` (phase 2): offsets are in the whole body.
    let body = br#"{"schema":[{"name":"A","type":"String"}],"results":[{"A":"x"}, 5]}"#;
    let at = body.iter().position(|&c| c == b'5').unwrap();
    assert_eq!(offset_of(body), at);
    let body = br#"{"schema":[],"results":{"A":1}}"#;
    let at = body.iter().position(|&c| c == b'{').map(|_| 23).unwrap();
    assert_eq!(&body[at..at + 1], b"{");
    assert!(offset_of(body) >= at && offset_of(body) <= body.len());
    // Trailing garbage after the envelope.
    let body = br#"{"schema":[],"results":[]} x"#;
    assert_eq!(offset_of(body), body.len() - 1);
}

#[test]
fn truncated_bodies_never_pass_or_panic() {
    for name in
        ["runHuntingQuery.v1.0.response.example1.json", "runHuntingQuery.beta.response.json"]
    {
        let full = fixture(name);
        let complete = full.trim_ascii_end().len();
        for cut in 0..full.len() {
            let result = decode(&full[..cut], &DecodeOptions { batch_rows: 1 });
            if cut >= complete {
                assert!(result.is_ok(), "{name} cut at {cut}: {result:?}");
            } else {
                match result {
                    Err(DecodeError::Malformed { offset, .. }) => {
                        assert_eq!(offset, cut, "{name} cut at {cut}")
                    }
                    other => panic!("{name} cut at {cut}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn garbage_is_malformed() {
    for body in [
        &b""[..],
        b"   ",
        b"null",
        b"[]",
        b"42",
        b"\"schema\"",
        b"<html>Service Unavailable</html>",
        b"\xff\xfe{}",
        b"{\"schema\":[{\"name\":\"A\",\"type\":\"String\"}],\"results\":[{\"A\":\"\xff\"}]}",
        b"{\"schema\":{},\"results\":[]}",
        b"{\"schema\":[],\"results\":[null]}",
        b"{\"schema\":[],\"results\":[[1]]}",
        b"{\"schema\":[],\"results\":[{\"A\":1,}]}",
        b"{\"schema\":[],\"results\":[],}",
    ] {
        let r = decode(body, &DecodeOptions::default());
        assert!(
            matches!(r, Err(DecodeError::Malformed { offset, .. }) if offset <= body.len()),
            "{:?}: {r:?}",
            String::from_utf8_lossy(body)
        );
    }
}

/// The every-type body of [`every_type_and_its_mismatches`], repeated to span many batches.
pub(super) fn many_rows_of_every_type(rows: usize) -> String {
    let schema = r#"[{"name":"S","type":"String"},{"name":"T","type":"DateTime"},{"name":"L","type":"Int64"},{"name":"I","type":"Int32"},{"name":"F","type":"Double"},{"name":"B","type":"Boolean"},{"name":"Dyn","type":"Dynamic"},{"name":"Span","type":"TimeSpan"},{"name":"G","type":"Guid"},{"name":"Dec","type":"Decimal"},{"name":"Sg","type":"Single"},{"name":"SB","type":"SByte"},{"name":"Obj","type":"Object"},{"name":"X","type":"Hyperloglog"}]"#;
    let row = |i: usize| {
        format!(
            r##"{{"S":"r{i} \"q\"","T":"2026-11-20T10:00:{:02}.{:07}Z","L@odata.type":"#Int64","L":{i},"I":{},"F":{}.5,"B":{},"Dyn":{{"n":[{i},null]}},"Span":"00:00:0{}","G":"00000000-0000-4000-8000-{i:012}","Dec":"{i}.25","Sg":-{i}.5,"SB":{},"Obj":[{i},"x"],"X":{{"k":{i}}}}}"##,
            i % 60,
            i * 7 % 10_000_000,
            i as i64 - 500,
            i,
            i.is_multiple_of(2),
            i % 10,
            i % 2
        )
    };
    let rows: Vec<String> = (0..rows).map(row).collect();
    // Results before the schema, as some real responses have them.
    format!(r#"{{"results":[{}],"schema":{schema}}}"#, rows.join(","))
}

#[test]
fn batch_by_batch_decoding_gives_the_same_values_as_whole_decoding() {
    let body = many_rows_of_every_type(1_000);
    let opts = DecodeOptions { batch_rows: 64 };
    let whole = decode(body.as_bytes(), &opts).unwrap();
    assert_eq!(whole.mismatched_cells, 0, "every cell fits its type");
    assert_eq!(whole.schema.fields().len(), 14);
    let mut streamed = Vec::new();
    let summary = decode_each(body.as_bytes(), &opts, |b| {
        streamed.push(b);
        Ok(())
    })
    .unwrap();
    assert!(summary.batches.is_empty());
    assert_eq!(summary.rows, 1_000);
    assert_eq!(streamed.len(), 16);
    assert_eq!(streamed, whole.batches, "same batches, value for value");
}

#[test]
fn batch_by_batch_decoding_of_a_cut_body_fails_at_every_cut() {
    let body = many_rows_of_every_type(20);
    let opts = DecodeOptions { batch_rows: 4 };
    for cut in 0..body.len() {
        let r = decode_each(&body.as_bytes()[..cut], &opts, |_| Ok(()));
        assert!(r.is_err(), "a body cut at byte {cut} of {} decoded", body.len());
    }
}

#[test]
fn a_consumer_that_stops_stops_the_decoding() {
    let body = many_rows_of_every_type(100);
    let opts = DecodeOptions { batch_rows: 10 };
    let mut seen = 0;
    let r = decode_each(body.as_bytes(), &opts, |_| {
        seen += 1;
        if seen == 3 {
            Err(arrow_schema::ArrowError::ExternalError("writer gone".into()))
        } else {
            Ok(())
        }
    });
    assert!(matches!(r, Err(DecodeError::Arrow(_))), "{r:?}");
    assert_eq!(seen, 3);
}
