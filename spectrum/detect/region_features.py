"""Hot bins of one row → regions: runs fitted to their occupied bandwidth and described.

Runs of hot bins (merged across small gaps and the DC guard) are fitted to their occupied
bandwidth (ITU-R SM.328: the span holding 99 % of the excess power), split into their lines
when the power lies in a few separate carriers (see `carrier_pieces`), described by the
features the classifier needs (level, rise, spectral kurtosis, centroid, concentration,
pulsing, significance now and over the last 4 and 16 rows), and IQ images of much stronger
regions are dropped.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from kernels.psd import RawRows
from kernels.regions import merged_runs, occupied_band, region_sums
from spectrum.detect.baseline_free import half_power_share
from spectrum.detect.carrier_envelope import CarrierJudge
from spectrum.detect.excess_history import ExcessHistory
from spectrum.detect.tracks import Region

REFINE_SIGNIFICANCE = 4.0  # per-bin significance (in box stds) for a bin to count in an extent
REFINE_PAD = 8  # bins around a run searched for its refined edges
OBW_TAIL = 0.005  # occupied bandwidth leaves this share of the power out on each side
OBW_FLOOR = 0.15  # bins under this share (−8 dB) of the region's strong bins do not count
MAX_CARRIERS = 12  # separate lines up to this many are carriers; more are a sweep's comb
LINE_MAX_BINS = 12  # a line's counted bins: a Hann main lobe and drift, widened by the 4-bin box
LINE_MIN_EXCESS = 1.0  # the strongest line's box-mean excess power ratio: it doubles the floor
FLOOR_BETWEEN = 0.2  # lines are separate when the bins between them hold under this share of their peak
COMB_STEPS = 3  # places checked on each side of a set of lines for its comb going on
COMB_GOES_ON = 0.1  # … a comb goes on where they hold this share of the lines' peak excess (−10 dB)
COMB_NOISE = 0.6  # … and more than a 4-row mean of noise reaches (its std ≈ 0.2 of the floor)
COMB_SPACING_TOLERANCE = 0.05  # comb lines' spacings are equal within this share (or 1.5 bins) …
COMB_MAX_STEP = 3  # … with up to two places between them empty in a row


def _half_power_share(excess: NDArray, total: float) -> float:
    """Share of a region's bins that hold half its excess power: ~0.4 for flat noise, small
    for a comb of lines (a sweep faster than one frame puts its power on lines 1/period apart).
    Too few bins or no excess (``total``, the caller's sum of ``excess``) say nothing (1)."""
    if excess.size < 8 or total <= 0:
        return 1.0
    return half_power_share(excess)


def _interpolated_peak(level_db: NDArray[np.float32], k: int) -> float:
    """Fractional bin of the strongest bin ``k`` of a region: parabola through the dB levels of
    the peak and its neighbours (for a Hann window this is within ~0.1 bin of a tone's frequency)."""
    if k == 0 or k == len(level_db) - 1:
        return float(k)
    a, b, c = (float(v) for v in level_db[k - 1 : k + 2])
    denom = a - 2 * b + c
    return float(k) if denom >= 0 else k + 0.5 * (a - c) / denom


def comb_runs(starts: NDArray[np.int64], ends: NDArray[np.int64]) -> tuple[list[int], list[int]]:
    """Runs (first, last bins, in order) with the lines of one comb joined into one run.

    A sweep faster than a frame puts its power on lines 1/period apart (a chirp jammer's are
    tens of kHz apart, more than the merge gap), so its lines come as separate narrow runs, each
    of which would be a track of its own: a `tone` per line. Narrow runs (each at most
    LINE_MAX_BINS) at equal spacing, some places between them empty in this row (a weak comb
    under bursty traffic shows some lines in each row), are one run here when they span more
    places than a few carriers make (MAX_CARRIERS) and fill at least half of them, as
    `carrier_pieces` takes more lines within one run to be one emission. Fewer stay apart:
    equally spaced CW carriers are several tones, and a few lines of a comb are judged as such
    only within a run (`RegionFinder._separate`).
    """
    if 2 * len(starts) <= MAX_CARRIERS:  # too few runs to fill half of that many places
        return starts.tolist(), ends.tolist()
    centres = (starts + ends) / 2.0
    narrow = (ends - starts + 1) <= LINE_MAX_BINS
    out_starts: list[int] = []
    out_ends: list[int] = []
    i, n = 0, len(starts)
    while i < n:
        j = i
        if narrow[i] and i + 1 < n and narrow[i + 1]:
            spacing = centres[i + 1] - centres[i]
            tolerance = max(1.5, COMB_SPACING_TOLERANCE * spacing)
            while j + 1 < n and narrow[j + 1]:
                steps = (centres[j + 1] - centres[j]) / spacing
                k = round(steps)
                if not 1 <= k <= COMB_MAX_STEP or abs(steps - k) * spacing > k * tolerance:
                    break
                j += 1
        places = round((centres[j] - centres[i]) / spacing) + 1 if j > i else 1
        if places > MAX_CARRIERS and 2 * (j - i + 1) >= places:
            out_starts.append(int(starts[i]))
            out_ends.append(int(ends[j]))
            i = j + 1
        else:
            out_starts.append(int(starts[i]))
            out_ends.append(int(ends[i]))
            i += 1
    return out_starts, out_ends


def carrier_pieces(power: NDArray[np.float64], gap_bins: int) -> list[tuple[int, int]] | None:
    """The separate lines of an occupied band, or None when it is one emission.

    ``power`` holds the band's counted bins (occupied_band's box-mean excess ratio, 0 where a
    bin does not count). Its counted bins in groups more than ``gap_bins`` apart — the floor
    between them, the merge distance of runs and tracks — are separate carriers when there are
    2 to MAX_CARRIERS of them, each no wider than a line (LINE_MAX_BINS), the strongest clearly
    over the floor (LINE_MIN_EXCESS; a weak barrage outlined in scraps is not). A sweep faster
    than one frame is a comb too, mostly of more lines (its time-bandwidth product, span ×
    period; a chirp jammer's is tens to hundreds); whether a few lines are carriers or part of
    one emission is decided by `RegionFinder._separate`. Returns (first, last) offsets into
    ``power``, or None.
    """
    counted = np.flatnonzero(power > 0.0)
    if counted.size < 2:
        return None
    breaks = np.flatnonzero(np.diff(counted) > gap_bins)
    if not 1 <= breaks.size < MAX_CARRIERS:
        return None
    firsts = counted[np.concatenate(([0], breaks + 1))]
    lasts = counted[np.concatenate((breaks, [counted.size - 1]))]
    if np.any(lasts - firsts + 1 > LINE_MAX_BINS):
        return None
    if power.max() < LINE_MIN_EXCESS:
        return None
    return list(zip(firsts.tolist(), lasts.tolist()))


class RegionFinder:
    """Regions of one band's rows.

    Parameters
    ----------
    history : ExcessHistory
        The band's recent excess and z rows (read, never written).
    fft_size : int
    dc_slice : slice
        Bins of the DC guard.
    merge_gap_bins : int
        Runs closer than this are one region.
    refine_boxes : list of (int, (int, int))
        (K rows, (K, W) index of the 4-bin box) of the profiles that refine a run's edges.
    image_rejection_db : float
        A region this much weaker than one at the mirrored frequency is its IQ image.
    frames_per_row : int
        Frames behind each row (for the IQ of rows that show separate lines).
    """

    def __init__(self, history: ExcessHistory, fft_size: int, dc_slice: slice, merge_gap_bins: int,
                 refine_boxes: list, image_rejection_db: float, frames_per_row: int) -> None:
        self.history = history
        self.fft_size = fft_size
        self.dc_slice = dc_slice
        self.merge_gap_bins = merge_gap_bins
        self.refine_boxes = refine_boxes
        self.image_rejection_db = image_rejection_db
        self._power = np.empty(fft_size)  # occupied_band's counted power, reused row after row
        self.carriers = CarrierJudge(fft_size, frames_per_row)

    def find(self, row: int, hist_row: int, hot: NDArray[np.bool_], score: NDArray[np.float32],
             level_db: NDArray[np.float32], sk: NDArray[np.float32], pulsing: float, unreliable: bool,
             kappa: float, inv_box_std: NDArray[np.float32], raw_row: RawRows | None = None) -> list[Region]:
        """Regions of the hot bins of ``row`` (history row ``hist_row``), images dropped;
        ``raw_row``, the row's IQ, tells a few carriers from a sweep's comb."""
        # split into runs, merging across small gaps and across the DC guard (emptied by the
        # caller) when hot bins lie near both its sides
        dc, gap = self.dc_slice, self.merge_gap_bins
        if hot[max(dc.start - gap, 0) : dc.start].any() and hot[dc.stop : dc.stop + gap].any():
            hot = hot.copy()
            hot[dc] = True
        starts, ends = comb_runs(*merged_runs(hot, gap))
        regions = []
        for lo, hi in zip(starts, ends):
            lo, hi, refined, lines = self.refine(hist_row, lo, hi, inv_box_std)
            pieces = lines if lines and self._separate(row, hist_row, raw_row, lines, lo) else [(lo, hi)]
            for lo, hi in pieces:
                region = self._describe(row, hist_row, lo, hi, score, level_db, sk, pulsing, unreliable, kappa)
                region.refined = refined
                regions.append(region)
        return self.drop_images(regions)

    def _describe(self, row, hist_row, lo, hi, score, level_db, sk, pulsing, unreliable, kappa) -> Region:
        """The features of one region (bins ``lo`` … ``hi``) in this row."""
        z_hist, e_hist = self.history.z, self.history.e
        sl = slice(lo, hi + 1)
        n = hi - lo + 1
        row_ratio = 10.0 ** (e_hist[hist_row, sl] / 10.0)
        weights = np.empty(n, np.float32)
        # one kernel pass for the sums below (each was a NumPy call of ~5 µs: this runs for
        # every detection of every row); float64 sums, so the means differ from NumPy's
        # float32 ones by rounding only
        ratio_sum, total, moment, z_row, z4, z16, e4 = region_sums(row_ratio, z_hist, e_hist, hist_row, lo, hi,
                                                                    weights)
        rows4, rows16 = min(4, hist_row + 1), min(16, hist_row + 1)
        # this row alone: mean z over the region, in units of its std under noise
        # (adjacent Hann bins are correlated: about 1.5 bins per independent value)
        row_significance = z_row / n * math.sqrt(n / 1.5)
        # (rows, significance) over the last 4 and 16 rows
        recent_significance = [(rows, z / (rows * n) * math.sqrt(rows * n / 1.5))
                               for rows, z in ((rows4, z4), (rows16, z16))]
        centroid = moment / total if total > 0 else (lo + hi) / 2
        peak = lo + int(np.argmax(level_db[sl]))
        return Region(
            concentration=_half_power_share(weights, total), envelope_kurtosis=kappa,
            row_significance=row_significance, recent_significance=recent_significance,
            row=row, lo_bin=lo, hi_bin=hi, score=float(score[sl].max()),
            rise_db=float(10 * math.log10(max(ratio_sum / n, 1e-3))),
            level_db=float(level_db[peak]), sk_mean=float(sk[sl].sum() / n),
            centroid_bin=centroid, pulsing=float(pulsing), unreliable=bool(unreliable),
            peak_bin=_interpolated_peak(level_db, peak), recent_excess_db=e4 / (rows4 * n),
        )

    def refine(self, hist_row: int, lo: int, hi: int,
               inv_box_std: NDArray[np.float32]) -> tuple[int, int, bool, list[tuple[int, int]] | None]:
        """Fit a run to its occupied bandwidth: the span holding 99 % of the excess power of
        its significant bins (ITU-R SM.328's definition, 0.5 % left out on each side), counting
        only bins within 8 dB of its strong ones. Power and significance are those of the last
        4 rows' mean, smoothed over 4 bins (the box the significance is calibrated for); of
        the last 16 rows' when nothing is significant at 4.

        Bursty legitimate carriers nearby have large excess ratios in single rows but low
        significance (their learned spread is wide), so significance gates the power. After a
        jammer stops only long boxes still see it; then nothing is significant at 4 or 16 rows
        and the run is kept as detected but marked unrefined (it does not widen the event).

        Returns (lo, hi, refined, lines): ``lines`` are the band's separate lines (`carrier_pieces`,
        bins) or None; `self._power` keeps the counted power from ``lo`` on.
        """
        a, b = max(lo - REFINE_PAD, 0), min(hi + REFINE_PAD, self.fft_size - 1)
        for k_rows, box in self.refine_boxes:
            if k_rows > self.history.valid_rows:
                break
            rows = slice(max(hist_row - k_rows + 1, 0), hist_row + 1)
            first, last = occupied_band(self.history.e[rows], self.history.z[rows], a, b, inv_box_std[box],
                                        self.dc_slice.start, self.dc_slice.stop, REFINE_SIGNIFICANCE, OBW_FLOOR,
                                        OBW_TAIL, self._power)
            if first >= 0:
                self._power[: last - first + 1] = self._power[first : last + 1]
                lines = carrier_pieces(self._power[: last - first + 1], self.merge_gap_bins)
                if lines:
                    lines = [(a + first + p, a + first + q) for p, q in lines]
                return a + first, a + last, True, lines
        return lo, hi, False, None

    def _separate(self, row: int, hist_row: int, raw_row: RawRows | None, lines: list[tuple[int, int]],
                  lo: int) -> bool:
        """Whether the lines (bins; the band starts at ``lo``) are carriers: neither the visible
        part of a wider comb (`_comb_goes_on`) nor a constant envelope (`CarrierJudge`)."""
        power = [self._power[a - lo : b - lo + 1] for a, b in lines]
        counted = np.concatenate(power)
        line_excess = float(counted[counted > 0].mean())
        line_peak = float(np.median([p.max() for p in power]))
        if not self._floor_between(hist_row, lines, line_peak):
            return False
        goes_on = self._comb_goes_on(hist_row, lines, line_peak)
        return self.carriers.separate(row, raw_row, lines, line_excess, part_of_comb=goes_on)

    def _floor_between(self, hist_row: int, lines: list[tuple[int, int]], line_peak: float) -> bool:
        """Whether the bins between the lines are at the floor: the last 4 rows' mean excess
        there under FLOOR_BETWEEN of the lines' median peak. Scraps of a wide signal that is
        only partly significant (bursty traffic with a wide learned spread) have its power
        between them; separate carriers have the noise floor."""
        gaps = [(b + 3, c - 3) for (_, b), (c, _) in zip(lines[:-1], lines[1:]) if c - 3 > b + 3]
        if not gaps:
            return True
        between = np.concatenate([self._recent_excess(hist_row, p, q) for p, q in gaps])
        return float(between.mean()) < FLOOR_BETWEEN * line_peak

    def _comb_goes_on(self, hist_row: int, lines: list[tuple[int, int]], line_peak: float) -> bool:
        """Whether the lines' comb goes on past them: a few carriers end, while the lines of a
        wider emission (a sweep wider than the band passing through it, seen as a pulse train;
        a comb only partly over the threshold in this row) continue at the same spacing. The
        4-row mean excess at up to COMB_STEPS spacings beyond each outer line says, against the
        lines' median peak (``line_peak``, box-mean excess ratio); a set of lines with no room
        left beyond it in the band fills the band, and is one emission."""
        centres = np.array([(a + b) / 2 for a, b in lines])
        spacing = float(np.median(np.diff(centres)))
        usable = (self.fft_size // 64, self.fft_size - self.fft_size // 64)  # off the anti-alias roll-off
        beyond = []
        for j in range(1, COMB_STEPS + 1):
            for c in (centres[0] - j * spacing, centres[-1] + j * spacing):
                k = int(round(c))
                if usable[0] <= k - 1 and k + 1 < usable[1] and not self.dc_slice.start - 1 <= k <= self.dc_slice.stop:
                    beyond.append(float(self._recent_excess(hist_row, k - 1, k + 1).max()))
        if not beyond:
            return True
        # half the places, not all: a comb passing over a legitimate carrier shows little
        # excess over that carrier's learned level
        return float(np.median(beyond)) >= max(COMB_NOISE, COMB_GOES_ON * line_peak)

    def _recent_excess(self, hist_row: int, lo: int, hi: int) -> NDArray[np.float32]:
        """Excess power ratio of bins ``lo`` … ``hi`` in the mean of the last 4 rows (the rows a
        line's peak, a 4-row box mean, is measured over)."""
        rows = slice(max(hist_row - 3, 0), hist_row + 1)
        return 10.0 ** (self.history.e[rows, lo : hi + 1].mean(axis=0) / 10.0) - 1.0

    def drop_images(self, regions: list[Region]) -> list[Region]:
        """Drop regions that are the IQ-imbalance image of a much stronger one."""
        n = self.fft_size
        kept = []
        for region in regions:
            mirror_lo, mirror_hi = n - region.hi_bin, n - region.lo_bin
            image = any(
                other is not region
                and other.lo_bin <= mirror_hi and other.hi_bin >= mirror_lo
                and other.level_db - region.level_db >= self.image_rejection_db
                for other in regions
            )
            if not image:
                kept.append(region)
        return kept
