"""Tests for kzcourse.geo: border lengths, distances and radius searches."""
from __future__ import annotations

import json

import pytest
from geographiclib.geodesic import Geodesic

from kzcourse import data, geo
from kzcourse.errors import ChoiceError, InputTypeError, KzCourseError
from tests.browser.maps_expect import fixture_folder


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return fixture_folder(tmp_path_factory.mktemp("maps_data"))


@pytest.mark.parametrize("scale", geo.SCALES)
def test_border_length_is_the_sum_of_geodesic_segments(scale):
    """Does border_length_km add up the WGS84 geodesic length of every segment of the shipped line?"""
    coords = geo.border_feature(scale)["geometry"]["coordinates"]
    expected = sum(
        Geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0])["s12"] for a, b in zip(coords, coords[1:])
    ) / 1000
    assert geo.border_length_km(scale) == pytest.approx(expected, rel=1e-12)


def test_more_detail_gives_a_longer_border():
    """Is the 1:10m line longer than the 1:50m, and that longer than the 1:110m (coastline paradox)?"""
    lengths = [geo.border_length_km(s) for s in geo.SCALES]
    assert lengths == sorted(lengths, reverse=True)
    assert 4000 < lengths[-1] < lengths[0] < 8000  # the official figure is about 7,600 km


@pytest.mark.parametrize("scale", geo.SCALES)
def test_border_runs_from_the_caspian_to_the_altai(scale):
    """Is each line one piece, from the Caspian shore (west) to the Altai tripoint (east)?"""
    f = geo.border_feature(scale)
    assert f["geometry"]["type"] == "LineString"
    assert f["properties"]["countries"] == ["KAZ", "RUS"]
    (lon0, lat0), (lon1, lat1) = f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][-1]
    assert 46 < lon0 < 51 and 45 < lat0 < 48
    assert 86 < lon1 < 88 and 48.5 < lat1 < 50


def test_countries_are_the_documented_set_and_files_stay_small():
    """Are the shipped polygons exactly COUNTRY_CODES, and the GeoJSON files under 150 KB together?"""
    codes = [f["properties"]["iso_a3"] for f in geo.countries()["features"]]
    assert codes == list(geo.COUNTRY_CODES)
    total = sum(p.stat().st_size for p in geo.geo_dir().glob("*.geojson"))
    assert total < 150 * 1024
    for p in geo.geo_dir().glob("*.geojson"):
        assert json.loads(p.read_text())["type"] == "FeatureCollection"


def test_countries_returns_a_copy():
    """Does changing the returned GeoJSON leave the packaged data alone?"""
    geo.countries()["features"].clear()
    assert len(geo.countries()["features"]) == len(geo.COUNTRY_CODES)


@pytest.mark.parametrize("bad", ["1:50m", "50", 50, None])
def test_unknown_scale_lists_the_valid_ones(bad):
    with pytest.raises(ChoiceError, match=r"Unknown Natural Earth scale .*Valid choices: '10m', '110m', '50m'"):
        geo.border_length_km(bad)


def test_distance_between_place_ids_matches_their_coordinates(fixture):
    """Does distance_km('almaty', 'moscow') use the coordinates in places.csv, symmetrically?"""
    places = data.load("places", folder=fixture).set_index("place_id")
    a, b = places.loc["almaty"], places.loc["moscow"]
    expected = Geodesic.WGS84.Inverse(a["lat"], a["lon"], b["lat"], b["lon"])["s12"] / 1000
    assert geo.distance_km("almaty", "moscow", folder=fixture) == pytest.approx(expected)
    assert geo.distance_km("moscow", "almaty", folder=fixture) == pytest.approx(expected)
    assert 3000 < expected < 3200


def test_distance_on_the_shipped_places():
    """Every pair of shipped places gets a finite, symmetric distance (whatever the dataset holds)."""
    ids = list(data.load("places")["place_id"])[:6]
    for a in ids:
        for b in ids:
            d = geo.distance_km(a, b)
            assert d == pytest.approx(geo.distance_km(b, a)) and d >= 0


def test_distance_accepts_lat_lon_pairs():
    assert geo.distance_km((0, 0), (0, 1)) == pytest.approx(111.3195, abs=1e-3)


def test_unknown_place_id_lists_the_valid_ones(fixture):
    with pytest.raises(ChoiceError, match=r"Unknown place id 'almati' \(str\)\. Did you mean 'almaty'\? Valid choices: .*'aktau'"):
        geo.distance_km("almati", "moscow", folder=fixture)


@pytest.mark.parametrize("bad", [43.2, (91, 0), ("a", "b"), (1, 2, 3)])
def test_bad_place_value_says_what_was_expected(bad):
    with pytest.raises(InputTypeError, match=r"Expected a place id such as 'almaty' or a \(lat, lon\) pair"):
        geo.distance_km(bad, (0, 0))


def test_within_radius_is_sorted_and_inside_the_radius(fixture):
    """Are the places within 2 km of Republic Square all nearer than 2 km, nearest first, without the centre?"""
    out = geo.within_radius("almaty_republic_square", 2, folder=fixture)
    assert list(out["distance_km"]) == sorted(out["distance_km"])
    assert (out["distance_km"] <= 2).all()
    assert "almaty_republic_square" not in set(out["place_id"])
    places = data.load("places", folder=fixture)
    centre = places.set_index("place_id").loc["almaty_republic_square"]
    expected = {
        p for p, lat, lon in zip(places["place_id"], places["lat"], places["lon"])
        if p != "almaty_republic_square" and geo.geodesic_km((centre["lat"], centre["lon"]), (lat, lon)) <= 2
    }
    assert set(out["place_id"]) == expected and expected  # the fixture has sites within 2 km
    with_self = geo.within_radius("almaty_republic_square", 2, include_self=True, folder=fixture)
    assert with_self.loc[0, "place_id"] == "almaty_republic_square" and with_self.loc[0, "distance_km"] == 0


@pytest.mark.parametrize("bad", [0, -1, "2", True, float("inf")])
def test_within_radius_rejects_a_bad_radius(bad, fixture):
    with pytest.raises(InputTypeError, match=r"is not a positive number of kilometres"):
        geo.within_radius("almaty", bad, folder=fixture)


def test_errors_are_kzcourse_errors():
    with pytest.raises(KzCourseError):
        geo.border_feature("1m")


def test_neighbours_share_boundary_points_and_near_countries_do_not():
    """Kazakhstan's neighbours are the five countries that touch it; Mongolia comes close but shares no point."""
    assert geo.neighbours("KAZ") == {"RUS", "CHN", "KGZ", "UZB", "TKM"}
    assert "KAZ" in geo.neighbours("RUS") and "MNG" in geo.neighbours("RUS")
    kaz = next(f for f in geo.countries()["features"] if f["properties"]["iso_a3"] == "KAZ")
    mng = next(f for f in geo.countries()["features"] if f["properties"]["iso_a3"] == "MNG")
    assert not geo.boundary_points(kaz["geometry"]) & geo.boundary_points(mng["geometry"])
    for code in geo.neighbours("KAZ"):
        assert "KAZ" in geo.neighbours(code), f"{code} touches Kazakhstan, so Kazakhstan touches {code}"


def test_boundary_points_reads_polygons_and_multipolygons():
    ring = [[0, 0], [1, 0], [1, 1], [0, 0]]
    other = [[5, 5], [6, 5], [5, 5]]
    assert geo.boundary_points({"type": "Polygon", "coordinates": [ring]}) == {(0, 0), (1, 0), (1, 1)}
    assert geo.boundary_points({"type": "MultiPolygon", "coordinates": [[ring], [other]]}) == {
        (0, 0), (1, 0), (1, 1), (5, 5), (6, 5)}


@pytest.mark.parametrize("bad", ["MON", "kaz", 398, None])
def test_unknown_country_code_lists_the_valid_ones(bad):
    with pytest.raises(ChoiceError, match=r"Unknown country code .*Valid choices: 'AFG'.*'UZB'"):
        geo.neighbours(bad)
