//! The names the parser knows: tabular operators, the words that start a query, and the
//! "did you mean" suggestion for a misspelt operator.

/// Every tabular operator that can follow `|` (Kusto.Language's query operators).
pub const OPERATORS: [&str; 62] = [
    "as",
    "consume",
    "count",
    "distinct",
    "evaluate",
    "execute-and-cache",
    "extend",
    "externaldata",
    "facet",
    "filter",
    "find",
    "fork",
    "getschema",
    "graph-mark-components",
    "graph-match",
    "graph-merge",
    "graph-shortest-paths",
    "graph-to-table",
    "invoke",
    "join",
    "limit",
    "lookup",
    "macro-expand",
    "make-graph",
    "make-series",
    "mv-apply",
    "mv-expand",
    "mvapply",
    "mvexpand",
    "order",
    "parse",
    "parse-kv",
    "parse-where",
    "partition",
    "print",
    "project",
    "project-away",
    "project-by-names",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "range",
    "reduce",
    "render",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "sort",
    "summarize",
    "take",
    "top",
    "top-hitters",
    "top-nested",
    "union",
    "where",
    "assert-schema",
    "datatable",
    "lookup-table",
    "distinct-values",
];

/// Is `word` a tabular operator?
pub fn is_operator(word: &str) -> bool {
    OPERATORS.contains(&word)
}

/// Edit distance (insertions, deletions, substitutions, adjacent swaps) between `a` and `b`.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// The operator `word` was probably meant to be: the nearest by edit distance, within 2 (1 for
/// words of three letters or fewer), or one it is a case variant of.
pub fn did_you_mean(word: &str) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    let limit = if word.chars().count() <= 3 { 1 } else { 2 };
    OPERATORS
        .iter()
        .map(|op| (distance(&lower, op), *op))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, op)| op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("summarise"), Some("summarize"));
        assert_eq!(did_you_mean("extnd"), Some("extend"));
        assert_eq!(did_you_mean("Where"), Some("where"));
        assert_eq!(did_you_mean("porject"), Some("project"));
        assert_eq!(did_you_mean("mvexpnd"), Some("mvexpand"));
        assert_eq!(did_you_mean("banana"), None);
        assert_eq!(distance("ab", "ba"), 1);
    }
}
