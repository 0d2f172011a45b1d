"""Where is the jammer? A position from the levels several sensors received, with its uncertainty.

Model: log-distance path loss with log-normal shadowing (Rappaport, *Wireless Communications*,
2nd ed., eq. 4.68-4.69c)::

    level_i = p0_db - 10 * n * log10(d_i / 1 m) + e_i,     e_i ~ N(0, sigma^2)

with the jammer's position (x, y), its level at 1 m ``p0_db`` and the path-loss exponent ``n``
all unknown (RSS localisation with an unknown path-loss model: Li, X., "RSS-based location
estimation with unknown pathloss model", IEEE Trans. Wireless Commun. 5(12), 2006). For a
fixed position the model is linear in (p0_db, n), so both are solved in closed form and
*profiled out*: the residual sum of squares S(x, y) is a function of position alone, minimised
by a grid search over the sensors' area with two zoomed refinements (a few thousand positions,
vectorised; no local optimiser, so no starting point to get wrong and no scipy). ``n`` is held
to a physical range (``N_RANGE``): the profiled fit is a 1-D quadratic in ``n``, so clipping
its optimum is the exact constrained optimum.

Confidence region (a likelihood / F-test region for a parameter subset; Bates & Watts,
*Nonlinear Regression Analysis and Its Applications*, Wiley 1988, sec. 2.3 and 6.1; Draper &
Smith, *Applied Regression Analysis*, 3rd ed., ch. 24): the positions whose profiled RSS is
within ``S(x, y) <= S_min * (1 + 2/nu * F(2, nu; 1 - alpha))`` with ``nu`` residual degrees of
freedom (sensors minus fitted parameters). F with 2 numerator degrees of freedom has a closed
quantile, ``F = nu/2 * (alpha**(-2/nu) - 1)``, so the bound is ``S_min * alpha**(-2/nu)``:
the spread comes from the fit's residuals. With fewer than 5 sensors ``n`` is fixed (to
``n_fixed``) and with fewer than ``MIN_DOF`` residual degrees of freedom the residuals cannot
say how large the shadowing is; the region then assumes ``sigma_prior_db`` and uses the
chi-square bound ``S <= S_min + sigma^2 * chi2(2; 1 - alpha) = S_min - 2 sigma^2 ln(alpha)``.
``method`` in the result says which.

Positions are worked in a local metric frame (equirectangular about the sensors' centroid:
under 0.1 % distance error across 100 km, far below what shadowing allows). Levels are dBFS,
or dBm where the sensors are calibrated: dBFS offsets differ by dongle and gain, so they act as
extra shadowing (the residuals and the region grow with them); when at least three calibrated
sensors with a usable geometry heard the jammer, only their dBm levels are used.

NumPy only: the service imports this module, and must not load numba, scipy or DSP code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
N_RANGE = (1.6, 6.0)  # path-loss exponents allowed: free space ~2, dense urban / indoor up to ~6
MIN_DISTANCE_M = 10.0  # a jammer closer than this to a sensor is placed at this distance (near field)
MIN_SENSORS = 3
FREE_N_SENSORS = 5  # with this many sensors the exponent is fitted; fewer fix it
MIN_DOF = 3  # residual degrees of freedom needed to estimate the shadowing from the fit
LINE_RATIO = 0.05  # sensors whose cross-track spread is under 5 % of their along-track spread are on a line
GRID_POINTS = 81  # per side, per level of the grid search
MARGIN = 0.5  # the search area extends the sensors' bounding box by this share of its size each way
MIN_SPAN_M = 2_000.0  # ... and is at least this wide


@dataclass(frozen=True)
class SensorLevel:
    """The jammer's level at one sensor.

    Attributes
    ----------
    lat_deg, lon_deg : float
        Sensor position, WGS-84 degrees.
    level_dbfs : float
        Received level of the jammer, dBFS (the same measure, e.g. band power, at every sensor).
    level_dbm : float or None
        The same level in dBm when the sensor is calibrated, else None.
    sensor : str
        Sensor id (for the report).
    """

    lat_deg: float
    lon_deg: float
    level_dbfs: float
    level_dbm: float | None = None
    sensor: str = ""


@dataclass
class JammerLocation:
    """An estimated position with its confidence region, or the reason there is none.

    Attributes
    ----------
    reason : str or None
        Why there is no position (``too_few_sensors``, ``degenerate_geometry``); None when
        there is one.
    detail : str
        The reason in words.
    lat_deg, lon_deg : float or None
        Estimated position, WGS-84 degrees.
    p0_db : float or None
        Fitted level at 1 m, in ``unit``.
    path_loss_exponent : float or None
        Fitted (or fixed) ``n``.
    residual_rms_db : float or None
        Root mean square of the fit's residuals, dB.
    unit : str
        ``dBm`` (calibrated levels) or ``dBFS``.
    calibrated : bool
        Whether dBm levels were used.
    confidence : float
        Stated probability that the region holds the jammer.
    method : str
        ``f_residuals`` (region from the residuals) or ``sigma_prior`` (too few sensors: an
        assumed shadowing).
    region : list of (lat_deg, lon_deg)
        Convex hull of the confidence region (a polygon for the map); empty without a position.
    region_radius_m : float or None
        Farthest point of the region from the estimate, metres.
    region_bounded : bool
        False when the region reaches the edge of the search area (the jammer may be outside
        the sensors' area; the polygon is then cut at that edge).
    sensors : list of str
        Sensors used.
    """

    reason: str | None = None
    detail: str = ""
    lat_deg: float | None = None
    lon_deg: float | None = None
    p0_db: float | None = None
    path_loss_exponent: float | None = None
    residual_rms_db: float | None = None
    unit: str = "dBFS"
    calibrated: bool = False
    confidence: float = 0.9
    method: str = ""
    region: list[tuple[float, float]] = field(default_factory=list)
    region_radius_m: float | None = None
    region_bounded: bool = True
    sensors: list[str] = field(default_factory=list)
    _fit: "_Fit | None" = field(default=None, repr=False, compare=False)

    @property
    def located(self) -> bool:
        """Whether there is a position."""
        return self.reason is None

    def region_contains(self, lat_deg: float, lon_deg: float) -> bool:
        """Whether a position lies in the confidence region (exactly, not on the polygon).

        Raises
        ------
        ValueError
            There is no position (see ``reason``).
        """
        if self._fit is None:
            raise ValueError(f"no position to test against: {self.reason}")
        xy = self._fit.frame.to_xy(np.array([lat_deg]), np.array([lon_deg]))
        return bool(self._fit.rss(xy)[0] <= self._fit.threshold)

    def as_dict(self) -> dict:
        """JSON-ready fields (for the API)."""
        out = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        out["region"] = [list(p) for p in self.region]
        return out


# ------------------------------------------------------------------ local frame
@dataclass(frozen=True)
class LocalFrame:
    """Equirectangular projection about a reference point: metres east (x) and north (y)."""

    lat0_deg: float
    lon0_deg: float

    def to_xy(self, lat_deg: NDArray, lon_deg: NDArray) -> NDArray[np.float64]:
        """(k, 2) metres east and north of the reference."""
        k = EARTH_RADIUS_M * math.pi / 180
        x = (np.asarray(lon_deg, float) - self.lon0_deg) * k * math.cos(math.radians(self.lat0_deg))
        y = (np.asarray(lat_deg, float) - self.lat0_deg) * k
        return np.stack([x, y], axis=-1)

    def to_latlon(self, xy: NDArray) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Latitudes and longitudes (degrees) of (k, 2) local points."""
        k = EARTH_RADIUS_M * math.pi / 180
        xy = np.asarray(xy, float)
        lat = self.lat0_deg + xy[..., 1] / k
        lon = self.lon0_deg + xy[..., 0] / (k * math.cos(math.radians(self.lat0_deg)))
        return lat, lon


# ------------------------------------------------------------------ the fit
@dataclass
class _Fit:
    frame: LocalFrame
    sensors_xy: NDArray[np.float64]
    levels_db: NDArray[np.float64]
    n_bounds: tuple[float, float]
    threshold: float = math.inf

    def profile(self, points_xy: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """Profiled RSS, p0_db and n at each of (k, 2) candidate positions."""
        dx = points_xy[:, 0:1] - self.sensors_xy[None, :, 0]
        dy = points_xy[:, 1:2] - self.sensors_xy[None, :, 1]
        d2 = dx * dx
        d2 += dy * dy
        np.maximum(d2, MIN_DISTANCE_M ** 2, out=d2)
        ell = np.log10(d2, out=d2)
        ell *= 5.0  # (k, N) dB of distance: 10 log10(d) = 5 log10(d^2)
        p = self.levels_db
        ell_mean = ell.mean(axis=1)
        ell_c = ell - ell_mean[:, None]
        p_c = p - p.mean()
        s_ll = np.einsum("kn,kn->k", ell_c, ell_c)
        s_lp = ell_c @ p_c
        s_pp = float(p_c @ p_c)
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.where(s_ll > 0, -s_lp / s_ll, self.n_bounds[0])
        n = np.clip(n, *self.n_bounds)  # exact: the RSS is a quadratic in n
        rss = np.maximum(s_pp + 2 * n * s_lp + n * n * s_ll, 0.0)
        p0 = p.mean() + n * ell_mean
        return rss, p0, n

    def rss(self, points_xy: NDArray) -> NDArray:
        return self.profile(np.atleast_2d(points_xy))[0]


def _grid(center: NDArray, half_span: float, points: int) -> NDArray[np.float64]:
    axis = np.linspace(-half_span, half_span, points)
    gx, gy = np.meshgrid(center[0] + axis, center[1] + axis, indexing="xy")
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _search(fit: _Fit, center: NDArray, half_span: float) -> tuple[NDArray, NDArray, NDArray]:
    """Coarse grid, then two zoomed grids around the best point. Returns best xy and the coarse grid."""
    coarse = _grid(center, half_span, GRID_POINTS)
    coarse_rss = fit.rss(coarse)
    best = coarse[int(np.argmin(coarse_rss))]
    step = 2 * half_span / (GRID_POINTS - 1)
    for _ in range(2):
        fine = _grid(best, 2 * step, 21)
        best = fine[int(np.argmin(fit.rss(fine)))]
        step = 4 * step / 20
    return best, coarse, coarse_rss


def _region_points(fit: _Fit, inside: NDArray, center: NDArray, edge: float, best: NDArray) -> NDArray:
    """The region sampled on a grid fitted to it (the coarse grid may hold it in one cell)."""
    step = 2 * edge / (GRID_POINTS - 1)
    lo = np.maximum(inside.min(axis=0) - step, center - edge)
    hi = np.minimum(inside.max(axis=0) + step, center + edge)
    half = float((hi - lo).max()) / 2
    grid = _grid((lo + hi) / 2, half, 41)
    return np.vstack([grid[fit.rss(grid) <= fit.threshold], best[None, :]])


def _convex_hull(points: NDArray) -> NDArray:
    """Andrew's monotone chain (a dozen lines; scipy.spatial would load scipy into the service).

    Only each row's outermost points can be corners, so those alone go through the chain.
    """
    rows: dict[float, list[float]] = {}
    for x, y in points.tolist():
        lo_hi = rows.setdefault(y, [x, x])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], x), max(lo_hi[1], x)
    pts = sorted({(x, y) for y, (a, b) in rows.items() for x in (a, b)})
    if len(pts) < 3:
        return np.array(pts, float).reshape(-1, 2)

    def half(seq: list) -> list:
        out: list = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1], float)


def _collinear(xy: NDArray) -> str | None:
    """Why the sensors cannot fix a position, or None."""
    centred = xy - xy.mean(axis=0)
    sv = np.linalg.svd(centred, compute_uv=False)
    if sv[0] < 1.0:
        return "the sensors are all at one place"
    if sv[1] < LINE_RATIO * sv[0]:
        return (f"the sensors lie on one line (spread across it {sv[1] / sv[0]:.1%} of the spread "
                f"along it): the jammer's side of the line cannot be told")
    return None


def _validate(readings: list[SensorLevel], confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r}: must be between 0 and 1")
    for i, r in enumerate(readings):
        for name in ("lat_deg", "lon_deg", "level_dbfs"):
            value = getattr(r, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"readings[{i}].{name}={value!r}: must be a finite number")
        if r.level_dbm is not None and not math.isfinite(r.level_dbm):
            raise ValueError(f"readings[{i}].level_dbm={r.level_dbm!r}: must be a finite number or null")
        if not (-90 <= r.lat_deg <= 90 and -180 <= r.lon_deg <= 180):
            raise ValueError(f"readings[{i}]: position ({r.lat_deg}, {r.lon_deg}) is not a latitude/longitude")


def _choose(readings: list[SensorLevel]) -> tuple[list[SensorLevel], bool]:
    """The calibrated sensors when three or more of them, placed usably, heard it; else all (dBFS)."""
    cal = [r for r in readings if r.level_dbm is not None]
    if len(cal) >= MIN_SENSORS:
        frame = LocalFrame(float(np.mean([r.lat_deg for r in cal])), float(np.mean([r.lon_deg for r in cal])))
        xy = frame.to_xy(np.array([r.lat_deg for r in cal]), np.array([r.lon_deg for r in cal]))
        if _collinear(xy) is None:
            return cal, True
    return readings, False


def locate_jammer(readings: list[SensorLevel], confidence: float = 0.9, n_fixed: float = 3.0,
                  sigma_prior_db: float = 6.0) -> JammerLocation:
    """Estimate a jammer's position from the levels three or more sensors received.

    Parameters
    ----------
    readings : list of SensorLevel
        One per sensor that heard the jammer (levels measured the same way everywhere).
    confidence : float
        Probability the confidence region should hold the jammer (0-1).
    n_fixed : float
        Path-loss exponent used when fewer than ``FREE_N_SENSORS`` sensors cannot fit it.
    sigma_prior_db : float
        Shadowing standard deviation assumed (dB) when the residuals have fewer than
        ``MIN_DOF`` degrees of freedom.

    Returns
    -------
    JammerLocation
        The position and region, or ``reason`` (``too_few_sensors``, ``degenerate_geometry``).

    Raises
    ------
    ValueError
        A reading or option is not a finite number in range (the message names it).

    References
    ----------
    Li, X. (2006), RSS-based location estimation with unknown pathloss model, IEEE TWC 5(12).
    Bates, D. M. & Watts, D. G. (1988), Nonlinear Regression Analysis and Its Applications, sec. 6.1.
    """
    _validate(readings, confidence)
    if not (N_RANGE[0] <= n_fixed <= N_RANGE[1]) or not (sigma_prior_db > 0):
        raise ValueError(f"n_fixed={n_fixed!r} must be in {N_RANGE} and sigma_prior_db={sigma_prior_db!r} > 0")
    if len(readings) < MIN_SENSORS:
        return JammerLocation(reason="too_few_sensors", confidence=confidence,
                              detail=f"{len(readings)} sensor(s) heard it; a position needs {MIN_SENSORS}",
                              sensors=[r.sensor for r in readings])
    used, calibrated = _choose(readings)
    lat = np.array([r.lat_deg for r in used])
    lon = np.array([r.lon_deg for r in used])
    frame = LocalFrame(float(lat.mean()), float(lon.mean()))
    xy = frame.to_xy(lat, lon)
    why = _collinear(xy)
    if why is not None:
        return JammerLocation(reason="degenerate_geometry", detail=why, confidence=confidence,
                              sensors=[r.sensor for r in used])
    levels = np.array([r.level_dbm if calibrated else r.level_dbfs for r in used], float)
    n_free = len(used) >= FREE_N_SENSORS
    fit = _Fit(frame, xy, levels, N_RANGE if n_free else (n_fixed, n_fixed))
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    half_span = max(float((hi - lo).max()) * (0.5 + MARGIN), MIN_SPAN_M / 2)
    best, coarse, coarse_rss = _search(fit, (lo + hi) / 2, half_span)
    rss_min, p0, n = (float(v[0]) for v in fit.profile(best[None, :]))
    dof = len(used) - (4 if n_free else 3)
    alpha = 1 - confidence
    if dof >= MIN_DOF:
        method, fit.threshold = "f_residuals", rss_min * alpha ** (-2 / dof)
    else:
        method, fit.threshold = "sigma_prior", rss_min - 2 * sigma_prior_db ** 2 * math.log(alpha)
    return _result(fit, best, p0, n, rss_min, coarse, coarse_rss, used, calibrated, confidence, method)


def _result(fit: _Fit, best: NDArray, p0: float, n: float, rss_min: float, coarse: NDArray,
            coarse_rss: NDArray, used: list[SensorLevel], calibrated: bool, confidence: float,
            method: str) -> JammerLocation:
    inside = np.vstack([coarse[coarse_rss <= fit.threshold], best[None, :]])
    center, edge = coarse.mean(axis=0), np.abs(coarse - coarse.mean(axis=0)).max()
    bounded = bool(np.all(np.abs(inside - center).max(axis=1) < edge - 1e-6))
    inside = _region_points(fit, inside, center, edge, best)
    hull = _convex_hull(inside)
    hull_lat, hull_lon = fit.frame.to_latlon(hull)
    lat, lon = fit.frame.to_latlon(best)
    return JammerLocation(
        lat_deg=float(lat), lon_deg=float(lon), p0_db=p0, path_loss_exponent=n,
        residual_rms_db=math.sqrt(rss_min / len(used)), unit="dBm" if calibrated else "dBFS",
        calibrated=calibrated, confidence=confidence, method=method,
        region=[(float(a), float(b)) for a, b in zip(hull_lat, hull_lon)],
        region_radius_m=float(np.linalg.norm(inside - best, axis=1).max()),
        region_bounded=bounded, sensors=[r.sensor for r in used], _fit=fit)
