//! Checking a policy file and compiling it once into matchers.
//!
//! Every phrase and exception of every indicator goes into one Aho-Corasick automaton, and every
//! pattern into one `RegexSet`, so the cost per ad hardly grows with the number of indicators.
//! Errors name the line of the policy file they come from.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet, RegexSetBuilder};
use toml::Spanned;

use super::spec::{FeatureSpec, PolicySpec, TestSpec};

/// A policy that failed to load, with the place in the file.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum PolicyError {
    #[error("policy does not parse (line {line}, column {column}): {message}")]
    Parse {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("policy is invalid (line {line}): {message}")]
    Invalid { line: usize, message: String },
}

/// A phrase, exception or pattern in the automaton belongs to one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhraseRole {
    Match,
    Exception,
    /// `unless_near`: a match of the indicator within the near window of this phrase does not
    /// count.
    Veto,
}

/// A compiled indicator.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub id: String,
    pub category: String,
    pub description: String,
    pub source: String,
    pub weight: f64,
    pub feature: Option<FeatureSpec>,
    /// Context index required for the indicator to count.
    pub requires: Option<usize>,
    /// Context index and the weight used when a match is near it.
    pub near: Option<(usize, f64)>,
    /// Contexts this indicator establishes when it fires (none if it has `requires`).
    pub establishes: Vec<usize>,
    /// Context whose evidence (from another indicator) must lie within the near window of a
    /// match for the match to count (`requires_near`).
    pub requires_near: Option<usize>,
    /// Context whose ambiguous quorum this indicator's matches count toward (`vouches`).
    pub vouches: Option<usize>,
    /// Whether a `requires_near` indicator's matches count toward the quorum (`in_quorum`).
    pub in_quorum: bool,
}

/// Per context (policy order), the spans of the hits that establish it (`None`: a feature
/// without a span).
pub(crate) type ContextSpans = Vec<Vec<Option<[usize; 2]>>>;

/// Where each context's evidence sits in an ad.
pub(crate) struct Evidence {
    /// From hits that count whatever stands around them.
    pub unconditional: ContextSpans,
    /// Those, and the ambiguous words that were corroborated.
    pub all: ContextSpans,
}

/// A compiled context.
#[derive(Debug, Clone)]
pub struct Context {
    pub name: String,
    pub description: String,
}

/// A checked, compiled policy, immutable and shared between threads.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub version: String,
    pub description: String,
    pub review_at: f64,
    pub block_at: f64,
    pub near_window: usize,
    /// Distinct ambiguous words within the near window that vouch for each other (0: never).
    pub ambiguous_quorum: usize,
    pub block_requires: Vec<String>,
    /// Category → cap on its combined weight.
    pub caps: HashMap<String, f64>,
    pub report_categories: Vec<String>,
    pub top_priority: u32,
    pub priority_scale: u32,
    pub contexts: Vec<Context>,
    pub indicators: Vec<Indicator>,
    pub(crate) phrases: Option<AhoCorasick>,
    pub(crate) phrase_owner: Vec<(usize, PhraseRole)>,
    pub(crate) phrase_text: Vec<String>,
    pub(crate) pattern_set: Option<RegexSet>,
    pub(crate) patterns: Vec<(Regex, usize)>,
    pub(crate) tests: Vec<TestSpec>,
    /// The policy file as loaded (what `GET /v1/policy` returns).
    pub source: String,
    /// Number of phrases and patterns compiled (for benchmarks and `policy test` output).
    pub phrase_count: usize,
    pub pattern_count: usize,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn invalid<T>(text: &str, span: &Spanned<T>, message: String) -> PolicyError {
    PolicyError::Invalid {
        line: line_of(text, span.span().start),
        message,
    }
}

impl Policy {
    /// Parses, checks and compiles a policy file.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let spec: PolicySpec = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let line = line_of(text, span.start);
                    let line_start = text[..span.start.min(text.len())]
                        .rfind('\n')
                        .map_or(0, |i| i + 1);
                    (line, span.start - line_start + 1)
                }
                None => (0, 0),
            };
            PolicyError::Parse {
                line,
                column,
                message: e.message().to_owned(),
            }
        })?;
        Self::compile(spec, text)
    }

    fn compile(spec: PolicySpec, text: &str) -> Result<Policy, PolicyError> {
        let sc = &spec.scoring;
        if sc.combine.get_ref() != "noisy-or" {
            return Err(invalid(
                text,
                &sc.combine,
                format!(
                    "unknown combination rule `{}`; the supported rule is `noisy-or`",
                    sc.combine.get_ref()
                ),
            ));
        }
        let threshold_line = line_of(text, sc.combine.span().start);
        if !(0.0..=1.0).contains(&sc.review_at)
            || !(0.0..=1.0).contains(&sc.block_at)
            || sc.review_at > sc.block_at
        {
            return Err(PolicyError::Invalid {
                line: threshold_line,
                message: format!(
                    "thresholds must satisfy 0 <= review_at <= block_at <= 1 (got review_at {}, block_at {})",
                    sc.review_at, sc.block_at
                ),
            });
        }

        let mut caps = HashMap::new();
        for c in &spec.categories {
            if !(0.0..=1.0).contains(&c.cap) {
                return Err(invalid(
                    text,
                    &c.name,
                    format!(
                        "category `{}`: cap {} is outside 0..=1",
                        c.name.get_ref(),
                        c.cap
                    ),
                ));
            }
            if caps.insert(c.name.get_ref().clone(), c.cap).is_some() {
                return Err(invalid(
                    text,
                    &c.name,
                    format!("category `{}` is defined twice", c.name.get_ref()),
                ));
            }
        }
        let mut context_index: HashMap<String, usize> = HashMap::new();
        let mut contexts = Vec::new();
        let mut context_categories: Vec<Vec<String>> = Vec::new();
        for c in &spec.contexts {
            if context_index
                .insert(c.name.get_ref().clone(), contexts.len())
                .is_some()
            {
                return Err(invalid(
                    text,
                    &c.name,
                    format!("context `{}` is defined twice", c.name.get_ref()),
                ));
            }
            contexts.push(Context {
                name: c.name.get_ref().clone(),
                description: c.description.clone(),
            });
            context_categories.push(c.categories.clone());
        }
        let find_context = |name: &Spanned<String>| -> Result<usize, PolicyError> {
            context_index.get(name.get_ref()).copied().ok_or_else(|| {
                invalid(
                    text,
                    name,
                    format!(
                        "unknown context `{}` (define it in a [[context]] table)",
                        name.get_ref()
                    ),
                )
            })
        };

        let mut indicators = Vec::new();
        let mut seen_ids: HashMap<String, ()> = HashMap::new();
        let mut phrase_list: Vec<String> = Vec::new();
        let mut phrase_owner = Vec::new();
        let mut pattern_sources = Vec::new();
        let mut patterns = Vec::new();
        for (i, ind) in spec.indicators.iter().enumerate() {
            let id = ind.id.get_ref();
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(
                    text,
                    &ind.id,
                    format!("indicator id `{id}` must be letters, digits and underscores"),
                ));
            }
            if seen_ids.insert(id.clone(), ()).is_some() {
                return Err(invalid(
                    text,
                    &ind.id,
                    format!("indicator `{id}` is defined twice"),
                ));
            }
            let weight = *ind.weight.get_ref();
            if !(0.0..=1.0).contains(&weight) {
                return Err(invalid(
                    text,
                    &ind.weight,
                    format!("indicator `{id}`: weight {weight} is outside 0..=1"),
                ));
            }
            let has_text = !ind.phrases.is_empty() || !ind.patterns.is_empty();
            if has_text == ind.feature.is_some() {
                return Err(invalid(
                    text,
                    &ind.id,
                    format!(
                        "indicator `{id}` needs either phrases/patterns or a feature (exactly one of the two)"
                    ),
                ));
            }
            if ind.description.trim().is_empty() || ind.source.trim().is_empty() {
                return Err(invalid(
                    text,
                    &ind.id,
                    format!("indicator `{id}` needs a description and a source"),
                ));
            }
            if let Some(f) = &ind.feature {
                check_feature(text, f, id)?;
                if let FeatureSpec::NetworkContext { context, .. } = f.get_ref()
                    && !context_index.contains_key(context)
                {
                    return Err(invalid(
                        text,
                        f,
                        format!("indicator `{id}`: unknown context `{context}`"),
                    ));
                }
            }
            for p in &ind.phrases {
                if p.trim().is_empty() {
                    return Err(invalid(
                        text,
                        &ind.id,
                        format!("indicator `{id}` has an empty phrase"),
                    ));
                }
                phrase_list.push(p.clone());
                phrase_owner.push((i, PhraseRole::Match));
            }
            for p in &ind.exceptions {
                phrase_list.push(p.clone());
                phrase_owner.push((i, PhraseRole::Exception));
            }
            for p in &ind.unless_near {
                if p.trim().is_empty() {
                    return Err(invalid(
                        text,
                        &ind.id,
                        format!("indicator `{id}` has an empty `unless_near` phrase"),
                    ));
                }
                phrase_list.push(p.clone());
                phrase_owner.push((i, PhraseRole::Veto));
            }
            for p in &ind.patterns {
                let source = ascii_word_boundaries(p.get_ref());
                let re = regex::RegexBuilder::new(&source)
                    .case_insensitive(true)
                    .size_limit(1 << 22)
                    .dfa_size_limit(1 << 24)
                    .build()
                    .map_err(|e| {
                        invalid(
                            text,
                            p,
                            format!("indicator `{id}`: pattern does not compile: {e}"),
                        )
                    })?;
                pattern_sources.push(source);
                patterns.push((re, i));
            }
            let requires = ind.requires.as_ref().map(find_context).transpose()?;
            let requires_near = ind.requires_near.as_ref().map(find_context).transpose()?;
            let vouches = ind.vouches.as_ref().map(find_context).transpose()?;
            if !ind.in_quorum && requires_near.is_none() {
                return Err(invalid(
                    text,
                    &ind.id,
                    format!("indicator `{id}`: `in_quorum` applies to `requires_near` indicators"),
                ));
            }
            if requires.is_some() && requires_near.is_some() {
                return Err(invalid(
                    text,
                    &ind.id,
                    format!("indicator `{id}`: give `requires` or `requires_near`, not both"),
                ));
            }
            let near = match &ind.near {
                Some(n) => {
                    if !(0.0..=1.0).contains(&n.weight) {
                        return Err(invalid(
                            text,
                            &n.context,
                            format!(
                                "indicator `{id}`: near weight {} is outside 0..=1",
                                n.weight
                            ),
                        ));
                    }
                    Some((find_context(&n.context)?, n.weight))
                }
                None => None,
            };
            let establishes = if requires.is_some() {
                Vec::new()
            } else {
                (0..contexts.len())
                    .filter(|&c| context_categories[c].contains(&ind.category))
                    .collect()
            };
            indicators.push(super::compile::Indicator {
                id: id.clone(),
                category: ind.category.clone(),
                description: ind.description.clone(),
                source: ind.source.clone(),
                weight,
                feature: ind.feature.as_ref().map(|f| f.get_ref().clone()),
                requires,
                near,
                establishes,
                requires_near,
                vouches,
                in_quorum: ind.in_quorum,
            });
        }
        for t in &spec.tests {
            for name in t.fires.iter().chain(&t.not_fires) {
                if !seen_ids.contains_key(name) {
                    return Err(invalid(
                        text,
                        &t.name,
                        format!(
                            "test `{}` names unknown indicator `{name}`",
                            t.name.get_ref()
                        ),
                    ));
                }
            }
            if let Some(v) = &t.verdict
                && !matches!(v.as_str(), "allow" | "review" | "block")
            {
                return Err(invalid(
                    text,
                    &t.name,
                    format!(
                        "test `{}`: verdict `{v}` is not allow, review or block",
                        t.name.get_ref()
                    ),
                ));
            }
        }

        let phrases = if phrase_list.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&phrase_list)
                    .map_err(|e| PolicyError::Invalid {
                        line: 0,
                        message: format!("phrase automaton: {e}"),
                    })?,
            )
        };
        let pattern_set = if pattern_sources.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(&pattern_sources)
                    .case_insensitive(true)
                    .size_limit(1 << 26)
                    // A roomy lazy-DFA cache: with a small one the set re-determinizes states on
                    // every ad (measured: most of the matching time).
                    .dfa_size_limit(1 << 26)
                    .build()
                    .map_err(|e| PolicyError::Invalid {
                        line: 0,
                        message: format!("pattern set: {e}"),
                    })?,
            )
        };
        let phrase_count = phrase_owner
            .iter()
            .filter(|(_, r)| *r == PhraseRole::Match)
            .count();
        let pattern_count = patterns.len();
        // The learned model raises ads to review; it never makes one a report candidate, and
        // it vouches for no context (its evidence is the model's, not the ad's wording).
        for ind in &mut indicators {
            if matches!(ind.feature, Some(FeatureSpec::ModelScore { .. })) {
                if spec.priority.report_categories.contains(&ind.category) {
                    return Err(PolicyError::Invalid {
                        line: 0,
                        message: format!(
                            "indicator `{}`: a model_score indicator may not be in a report category (`{}`): the model never makes an ad a report candidate on its own",
                            ind.id, ind.category
                        ),
                    });
                }
                ind.establishes.clear();
            }
        }
        Ok(Policy {
            name: spec.policy.name,
            version: spec.policy.version,
            description: spec.policy.description,
            review_at: sc.review_at,
            block_at: sc.block_at,
            near_window: sc.near_window,
            ambiguous_quorum: sc.ambiguous_quorum,
            block_requires: sc.block_requires.clone(),
            caps,
            report_categories: spec.priority.report_categories,
            top_priority: spec.priority.top,
            priority_scale: spec.priority.scale,
            contexts,
            indicators,
            phrases,
            phrase_owner,
            phrase_text: phrase_list,
            pattern_set,
            patterns,
            tests: spec.tests,
            source: text.to_owned(),
            phrase_count,
            pattern_count,
        })
    }

    /// `name@version`, as written into every analysis.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Every indicator phrase (not exceptions), in file order.
    pub fn phrases(&self) -> impl Iterator<Item = &str> {
        self.phrase_text
            .iter()
            .zip(&self.phrase_owner)
            .filter(|(_, (_, r))| *r == PhraseRole::Match)
            .map(|(p, _)| p.as_str())
    }

    /// Index of a context by name.
    pub fn context(&self, name: &str) -> Option<usize> {
        self.contexts.iter().position(|c| c.name == name)
    }

    /// The contexts an ad establishes by its own text hits, as a bit set (bit `i` = context `i`;
    /// policies have far fewer than 64 contexts, more are ignored).
    pub fn contexts_of(&self, text_hits: &[super::Hit]) -> u64 {
        let mut bits = 0u64;
        for (c, spans) in self.context_evidence(text_hits).all.iter().enumerate() {
            if c < 64 && !spans.is_empty() {
                bits |= 1 << c;
            }
        }
        bits
    }

    /// Does `hit` count? Only a `requires_near` indicator can fail here: it needs evidence of
    /// its context from another indicator within the near window. `evidence` is the spans per
    /// context from unconditional hits.
    pub(crate) fn corroborated(&self, hit: &super::Hit, evidence: &ContextSpans) -> bool {
        let ind = &self.indicators[hit.indicator];
        let Some(c) = ind.requires_near else {
            return true;
        };
        let Some(span) = hit.span else { return false };
        evidence.get(c).is_some_and(|spans| {
            spans
                .iter()
                .flatten()
                .any(|&s| super::decide::gap(s, span) <= self.near_window)
        })
    }

    /// Does `hit` count: unconditionally, or (for `requires_near`) corroborated by `evidence`
    /// from unconditional hits or by a quorum among `hits`.
    pub(crate) fn admitted(
        &self,
        hit: &super::Hit,
        evidence: &ContextSpans,
        hits: &[super::Hit],
    ) -> bool {
        match self.indicators[hit.indicator].requires_near {
            None => true,
            Some(c) => self.corroborated(hit, evidence) || self.quorum(hit, c, hits),
        }
    }

    /// Do enough distinct ambiguous words of context `c` stand together around `hit` (itself
    /// included) to vouch for each other? `ambiguous_quorum` of them within the near window;
    /// never when the quorum is 0. Words of `in_quorum = false` indicators count only when a
    /// `vouches` cue is among them.
    fn quorum(&self, hit: &super::Hit, c: usize, hits: &[super::Hit]) -> bool {
        let (Some(span), q) = (hit.span, self.ambiguous_quorum) else {
            return false;
        };
        if q == 0 {
            return false;
        }
        let within = |h: &&super::Hit| {
            h.span
                .is_some_and(|s| super::decide::gap(s, span) <= self.near_window)
        };
        // Trade words (`in_quorum = false`) count only beside a vouching cue (handler wording,
        // coded youth): a price with "text my driver" and a candy emoji is an offer, a price
        // with "upscale" is a piano teacher.
        let vouched = hits
            .iter()
            .filter(within)
            .any(|h| self.indicators[h.indicator].vouches == Some(c));
        let mut near: Vec<[usize; 2]> = hits
            .iter()
            .filter(within)
            .filter(|h| {
                let ind = &self.indicators[h.indicator];
                (ind.requires_near == Some(c) && (ind.in_quorum || vouched))
                    || ind.vouches == Some(c)
            })
            .filter_map(|h| h.span)
            .collect();
        // words, not matches: "ask about overnight" and the "overnight" inside it are one
        near.sort_unstable();
        let mut words = 0;
        let mut end = 0;
        for s in near {
            if words == 0 || s[0] >= end {
                words += 1;
                end = s[1];
            } else {
                end = end.max(s[1]);
            }
        }
        words >= q
    }

    /// Per context, the spans of the hits that establish it: first the hits that count
    /// unconditionally, then the `requires_near` hits corroborated by those or by a quorum of
    /// distinct ambiguous words around them (`ambiguous_quorum`).
    pub(crate) fn context_evidence(&self, hits: &[super::Hit]) -> Evidence {
        let mut unconditional: ContextSpans = vec![Vec::new(); self.contexts.len()];
        for h in hits {
            let ind = &self.indicators[h.indicator];
            if ind.requires_near.is_none() {
                for &c in &ind.establishes {
                    unconditional[c].push(h.span);
                }
            }
        }
        let mut all = unconditional.clone();
        for h in hits {
            let ind = &self.indicators[h.indicator];
            if ind.requires_near.is_some() && self.admitted(h, &unconditional, hits) {
                for &c in &ind.establishes {
                    all[c].push(h.span);
                }
            }
        }
        Evidence { unconditional, all }
    }

    /// Index of an indicator by id.
    pub fn indicator(&self, id: &str) -> Option<usize> {
        self.indicators.iter().position(|i| i.id == id)
    }
}

/// Rewrites `\b` and `\B` as ASCII word boundaries.
///
/// Unicode word boundaries make the regex crate's fast DFA give up on any non-ASCII text (every
/// ad with an emoji) and fall back to a slower engine; normalized text has its look-alike
/// letters folded to ASCII already, so ASCII boundaries are what policy authors mean.
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(b @ ('b' | 'B')) => {
                out.push_str("(?-u:\\");
                out.push(b);
                out.push(')');
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn check_feature(text: &str, f: &Spanned<FeatureSpec>, id: &str) -> Result<(), PolicyError> {
    let bad = |m: &str| Err(invalid(text, f, format!("indicator `{id}`: {m}")));
    match f.get_ref() {
        FeatureSpec::AgeBetween { min, max } if min > max => bad("age_between needs min <= max"),
        FeatureSpec::PhoneCities { cities, days } if *cities < 2 || *days == 0 => {
            bad("phone_cities needs cities >= 2 and days >= 1")
        }
        FeatureSpec::NetworkContext { share, .. } if !(*share > 0.0 && *share <= 1.0) => {
            bad("network_context needs 0 < share <= 1")
        }
        FeatureSpec::ModelScore { at: Some(at) } if !(*at > 0.0 && *at < 1.0) => {
            bad("model_score needs 0 < at < 1")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::ascii_word_boundaries;

    #[test]
    fn word_boundaries_become_ascii_and_escapes_survive() {
        assert_eq!(ascii_word_boundaries(r"\bhh\b"), r"(?-u:\b)hh(?-u:\b)");
        assert_eq!(ascii_word_boundaries(r"\\b\d"), r"\\b\d");
        assert_eq!(ascii_word_boundaries(r"a\Bb"), r"a(?-u:\B)b");
    }
}
