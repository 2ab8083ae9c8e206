//! Time-series analysis over arrays (`make-series` output): `series_decompose` (baseline,
//! seasonal, trend, residual), `series_decompose_anomalies` (ad_flag, ad_score, baseline) and
//! `series_outliers`, after Kusto's documented algorithm:
//!
//! 1. the seasonal period: the one given, none (`0`), or detected (`-1`, the default) as the lag
//!    with the highest autocorrelation of the de-meaned series, kept when it scores at least the
//!    seasonality threshold (0.6) and fits twice in the learning points;
//! 2. the seasonal component: per phase of that period, the median of the de-meaned values;
//! 3. the trend of what is left: its average (`avg`, the default), a least-squares line
//!    (`linefit`) or nothing (`none`); baseline = seasonal + trend, residual = series − baseline;
//! 4. the anomaly score of each residual by Tukey's fences: (r − Q3) / (Q3 − Q1) above Q3,
//!    (r − Q1) / (Q3 − Q1) below Q1, else 0, with Q1/Q3 the 10th/90th percentiles (`ctukey`, the
//!    default) or the 25th/75th (`tukey`), interpolated linearly between ranks; when Q3 = Q1
//!    the distance itself is the score;
//! 5. ad_flag: 1 where the score exceeds the threshold (1.5 by default), −1 below its negative.
//!
//! The last `Test_points` points are left out of the learning (period, components, quartiles)
//! and take the periodic seasonal value and the extended trend.

use serde_json::{Value, json};

use crate::emulator::kql::value::V;

/// The series functions of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeriesFn {
    /// `series_decompose(series, seasonality, trend, test_points, seasonality_threshold)`.
    Decompose,
    /// `series_decompose_anomalies(series, threshold, seasonality, trend, test_points,
    /// ad_method, seasonality_threshold)`.
    DecomposeAnomalies,
    /// `series_outliers(series, kind, ignore_val, min_percentile, max_percentile)`: the score.
    Outliers,
}

impl SeriesFn {
    /// The function of `name`, if it is one of these.
    pub(crate) fn of(name: &str) -> Option<SeriesFn> {
        Some(match name {
            "series_decompose" => SeriesFn::Decompose,
            "series_decompose_anomalies" => SeriesFn::DecomposeAnomalies,
            "series_outliers" => SeriesFn::Outliers,
            _ => return None,
        })
    }

    /// The names of its outputs, in order (the suffixes of their default column names).
    pub(crate) fn outputs(self) -> &'static [&'static str] {
        match self {
            SeriesFn::Decompose => &["baseline", "seasonal", "trend", "residual"],
            SeriesFn::DecomposeAnomalies => &["ad_flag", "ad_score", "baseline"],
            SeriesFn::Outliers => &["outliers"],
        }
    }

    /// Most arguments it takes.
    pub(crate) fn max_args(self) -> usize {
        match self {
            SeriesFn::Decompose | SeriesFn::Outliers => 5,
            SeriesFn::DecomposeAnomalies => 7,
        }
    }
}

/// Output `part` of `f` on `args` (already evaluated): a dynamic array, or null when the
/// series is not an array or an option is invalid.
pub(crate) fn call(f: SeriesFn, part: usize, args: &[V<'_>]) -> V<'static> {
    let Some(xs) = numbers(args.first()) else { return V::Null };
    let real = |i: usize, or: f64| match args.get(i) {
        None | Some(V::Null) => Some(or),
        Some(V::Int(n)) => Some(*n as f64),
        Some(V::Real(r)) => Some(*r),
        Some(_) => None,
    };
    let text = |i: usize, or: &str| match args.get(i) {
        None | Some(V::Null) => Some(or.to_owned()),
        Some(V::Str(s)) => Some(s.to_ascii_lowercase()),
        Some(_) => None,
    };
    let arrays: Option<Vec<Vec<f64>>> = (|| match f {
        SeriesFn::Outliers => {
            let tukey = match text(1, "ctukey")?.as_str() {
                "ctukey" => (10.0, 90.0),
                "tukey" => (25.0, 75.0),
                _ => return None,
            };
            Some(vec![scores(&xs, xs.len(), tukey)])
        }
        SeriesFn::Decompose => {
            let (season, trend) = (real(1, -1.0)?, text(2, "avg")?);
            let (test, threshold) = (real(3, 0.0)?, real(4, 0.6)?);
            let d = decompose(&xs, season, &trend, test, threshold)?;
            Some(vec![d.baseline, d.seasonal, d.trend, d.residual])
        }
        SeriesFn::DecomposeAnomalies => {
            let (k, season, trend) = (real(1, 1.5)?, real(2, -1.0)?, text(3, "avg")?);
            let (test, method, threshold) = (real(4, 0.0)?, text(5, "ctukey")?, real(6, 0.6)?);
            let tukey = match method.as_str() {
                "ctukey" => (10.0, 90.0),
                "tukey" => (25.0, 75.0),
                _ => return None,
            };
            let d = decompose(&xs, season, &trend, test, threshold)?;
            let score = scores(&d.residual, d.learn, tukey);
            let flag = score
                .iter()
                .map(|s| {
                    if *s > k {
                        1.0
                    } else if *s < -k {
                        -1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            Some(vec![flag, score, d.baseline])
        }
    })();
    let Some(array) = arrays.and_then(|mut a| (part < a.len()).then(|| a.swap_remove(part))) else {
        return V::Null;
    };
    let flags = f == SeriesFn::DecomposeAnomalies && part == 0;
    let items =
        array.into_iter().map(|v| if flags { json!(v as i64) } else { json!(round(v)) }).collect();
    V::Dyn(std::borrow::Cow::Owned(Value::Array(items)))
}

/// `v` rounded to 12 significant decimals (so that sums of fractions print as people expect).
fn round(v: f64) -> f64 {
    if v.is_finite() { (v * 1e12).round() / 1e12 } else { 0.0 }
}

/// The numbers of a dynamic array (a non-number element counts as 0).
fn numbers(v: Option<&V<'_>>) -> Option<Vec<f64>> {
    let Some(V::Dyn(d)) = v else { return None };
    let items = d.as_array()?;
    Some(items.iter().map(|x| x.as_f64().filter(|f| f.is_finite()).unwrap_or(0.0)).collect())
}

/// The components of a series.
struct Parts {
    baseline: Vec<f64>,
    seasonal: Vec<f64>,
    trend: Vec<f64>,
    residual: Vec<f64>,
    /// How many leading points were learnt from.
    learn: usize,
}

fn decompose(xs: &[f64], season: f64, trend: &str, test: f64, threshold: f64) -> Option<Parts> {
    let n = xs.len();
    if test < 0.0 || !(-1.0..=n as f64).contains(&season) || season.fract() != 0.0 {
        return None;
    }
    let learn = n.saturating_sub(test as usize);
    let train = &xs[..learn];
    let mean = if learn == 0 { 0.0 } else { train.iter().sum::<f64>() / learn as f64 };
    let centred: Vec<f64> = train.iter().map(|x| x - mean).collect();
    let period = match season as i64 {
        -1 => detect_period(&centred, threshold),
        0 | 1 => None,
        p => Some(p as usize).filter(|p| *p < learn.max(1)),
    };
    let mut seasonal = vec![0.0; n];
    if let Some(p) = period {
        let phase: Vec<f64> = (0..p)
            .map(|ph| median(centred.iter().skip(ph).step_by(p).copied().collect()))
            .collect();
        for (i, s) in seasonal.iter_mut().enumerate() {
            *s = phase[i % p];
        }
    }
    let rest: Vec<f64> = train.iter().zip(&seasonal).map(|(x, s)| x - s).collect();
    let trend: Vec<f64> = match trend {
        "avg" => {
            let m = if learn == 0 { 0.0 } else { rest.iter().sum::<f64>() / learn as f64 };
            vec![m; n]
        }
        "linefit" => {
            let (a, b) = line(&rest);
            (0..n).map(|i| a + b * i as f64).collect()
        }
        "none" => vec![0.0; n],
        _ => return None,
    };
    let baseline: Vec<f64> = seasonal.iter().zip(&trend).map(|(s, t)| s + t).collect();
    let residual = xs.iter().zip(&baseline).map(|(x, b)| x - b).collect();
    Some(Parts { baseline, seasonal, trend, residual, learn })
}

/// The lag (2 up to half the points) with the highest autocorrelation, if it reaches
/// `threshold`.
fn detect_period(centred: &[f64], threshold: f64) -> Option<usize> {
    let n = centred.len();
    let energy: f64 = centred.iter().map(|x| x * x).sum();
    if energy <= f64::EPSILON {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for lag in 2..=n / 2 {
        let r: f64 = (0..n - lag).map(|i| centred[i] * centred[i + lag]).sum::<f64>() / energy;
        // Normalised for the shorter overlap, so long lags are not penalised.
        let r = r * n as f64 / (n - lag) as f64;
        if best.is_none_or(|(_, b)| r > b + 1e-12) {
            best = Some((lag, r));
        }
    }
    best.filter(|(_, r)| *r >= threshold).map(|(lag, _)| lag)
}

/// Least-squares line `a + b·i` through `ys` at `i = 0, 1, …`.
fn line(ys: &[f64]) -> (f64, f64) {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return (ys.first().copied().unwrap_or(0.0), 0.0);
    }
    let mx = (n - 1.0) / 2.0;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (y - my);
        sxx += dx * dx;
    }
    let b = sxy / sxx;
    (my - b * mx, b)
}

fn median(v: Vec<f64>) -> f64 {
    percentile(v, 50.0)
}

/// The `p`th percentile, interpolated linearly between ranks.
fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let pos = p / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Tukey scores of `xs`, the quartiles (`q.0`th and `q.1`th percentiles) of its first `learn`.
fn scores(xs: &[f64], learn: usize, q: (f64, f64)) -> Vec<f64> {
    let train = xs[..learn.min(xs.len())].to_vec();
    let (q1, q3) = (percentile(train.clone(), q.0), percentile(train, q.1));
    let iqr = if q3 - q1 > 1e-12 { q3 - q1 } else { 1.0 };
    xs.iter()
        .map(|x| {
            if *x > q3 {
                (x - q3) / iqr
            } else if *x < q1 {
                (x - q1) / iqr
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let v = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        assert_eq!(percentile(v.clone(), 50.0), 3.0);
        // 10th: rank 0.4 → 1 + 0.4·(2 − 1).
        assert!((percentile(v.clone(), 10.0) - 1.4).abs() < 1e-12);
        assert!((percentile(v, 90.0) - 4.6).abs() < 1e-12);
    }

    #[test]
    fn a_period_of_four_is_detected() {
        let xs: Vec<f64> = (0..16).map(|i| [0.0, 10.0, 0.0, -10.0][i % 4]).collect();
        assert_eq!(detect_period(&xs, 0.6), Some(4));
        // A constant series, de-meaned, has no period.
        assert_eq!(detect_period(&[0.0; 4], 0.6), None);
    }

    #[test]
    fn the_least_squares_line() {
        let (a, b) = line(&[1.0, 3.0, 5.0, 7.0]);
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
    }
}
