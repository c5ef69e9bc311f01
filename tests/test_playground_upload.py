"""One's own data for the playground: CSV files read, rescaled and refused with clear messages."""

import numpy as np
import pytest

from glassnet.playground.upload import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_ROWS,
    UploadError,
    parse_csv,
)


def rows(n: int, label=lambda i: i % 2, scale: float = 1.0) -> list[str]:
    return [f"{scale * np.cos(i):.5f},{scale * np.sin(i):.5f},{label(i)}" for i in range(n)]


def test_a_classification_file_with_a_header():
    upload = parse_csv(("x1,x2,label\n" + "\n".join(rows(20))).encode(), name="mine.csv")
    assert upload.rows == 20 and upload.name == "mine.csv"
    assert upload.points.dtype == np.float32 and upload.points.shape == (20, 2)
    assert upload.labels.dtype == np.int64 and list(upload.labels[:4]) == [0, 1, 0, 1]
    assert not upload.regression and upload.classes == 2 and upload.notes == ()
    np.testing.assert_allclose(upload.points[1], [np.cos(1), np.sin(1)], atol=1e-5)


def test_no_header_other_separators_blank_lines_and_a_byte_order_mark():
    text = "\ufeff" + "\n\n".join(line.replace(",", ";") for line in rows(12)) + "\n\n"
    upload = parse_csv(text.encode("utf-8"))
    assert upload.rows == 12 and upload.classes == 2
    tabbed = parse_csv("x\ty\tlabel\r\n" + "\r\n".join(r.replace(",", "\t") for r in rows(12)))
    assert tabbed.rows == 12


def test_two_label_values_become_classes_0_and_1():
    upload = parse_csv("\n".join(rows(10, label=lambda i: [-1, 1][i % 2])))
    assert list(upload.labels[:2]) == [0, 1] and upload.classes == 2
    assert "labels numbered as classes: -1 -> 0, 1 -> 1" in upload.notes
    named = parse_csv("\n".join(rows(10, label=lambda i: [0.5, 2.5][i % 2])))
    assert not named.regression and list(named.labels[:2]) == [0, 1]


def test_up_to_five_classes():
    upload = parse_csv("\n".join(rows(30, label=lambda i: i % 5)))
    assert upload.classes == 5 and sorted(set(upload.labels)) == [0, 1, 2, 3, 4]
    shifted = parse_csv("\n".join(rows(30, label=lambda i: 1 + i % 3)))
    assert shifted.classes == 3 and sorted(set(shifted.labels)) == [0, 1, 2]


def test_regression_targets_and_their_scale():
    upload = parse_csv("\n".join(rows(10, label=lambda i: f"{0.1 * i:.2f}")))
    assert upload.regression and upload.labels.dtype == np.float32
    np.testing.assert_allclose(upload.labels, 0.1 * np.arange(10), atol=1e-6)
    assert upload.notes == ()
    big = parse_csv("\n".join(rows(10, label=lambda i: 20 * i - 50)), kind="regression")
    assert big.regression and np.abs(big.labels).max() == pytest.approx(1.0)
    assert "targets divided by 130 to fit [-1, 1]" in big.notes


def test_points_outside_the_square_are_rescaled_into_it():
    text = "\n".join(f"{100 + i},{-20 + 2 * i},{i % 2}" for i in range(11))
    upload = parse_csv(text)
    assert np.abs(upload.points).max() <= 6.0
    # both axes by the same factor, centred: x1 spans 100..110 and x2 -20..0 (the wider)
    np.testing.assert_allclose(upload.points[0], [-3.0, -6.0], atol=1e-5)
    np.testing.assert_allclose(upload.points[-1], [3.0, 6.0], atol=1e-5)
    assert any(note.startswith("points rescaled from x1 in [100, 110]") for note in upload.notes)
    inside = parse_csv("\n".join(rows(10, scale=5.9)))
    assert inside.notes == ()  # already inside: untouched


@pytest.mark.parametrize(
    "text, kind, message",
    [
        (
            "x1,x2,label\n" + "\n".join(rows(12)[:5] + ["1.0,abc,0"] + rows(12)[5:]),
            "auto",
            "row 7, column 2 (x2): 'abc' is not a finite number",
        ),
        ("\n".join(rows(12) + ["1,2,nan"]), "auto", "row 13, column 3 (label): 'nan'"),
        ("\n".join(rows(12) + ["1,inf,1"]), "auto", "row 13, column 2 (x2)"),
        ("a,b,c\n" + "\n".join(rows(10) + ["1,2,x"]), "auto", "row 12, column 3 (c)"),
        ("\n".join(rows(10) + ["1,2"]), "auto", "row 11: expected 3 columns"),
        ("\n".join(rows(10) + ["1,2,0,4"]), "auto", "row 11: expected 3 columns"),
        ("x1,x2\n" + "\n".join(rows(10)), "auto", "row 1: the header should name 3 columns"),
        (
            "x1,x2,label\n" + "\n".join(rows(9)),
            "auto",
            "only 9 rows of data: the playground needs at least 10 points",
        ),
        ("", "auto", "only 0 rows"),
        (
            "\n".join(rows(20, label=lambda i: i % 7)),
            "auto",
            "more than 5 classes: the labels take 7 different values (0, 1, 2, 3, 4, 5, 6)",
        ),
        (
            "\n".join(rows(20, label=lambda i: 0.25 * (i % 3))),
            "classification",
            "classification labels should be whole numbers",
        ),
        ("\n".join(rows(20, label=lambda i: 1)), "auto", "only one class (every label is 1)"),
        ("\n".join(rows(20)), "guess", "kind: should be one of auto, classification, regression"),
    ],
    ids=[
        "not-a-number",
        "nan",
        "infinite",
        "header-names-the-column",
        "two-columns",
        "four-columns",
        "short-header",
        "nine-rows",
        "empty",
        "seven-classes",
        "fractional-classes",
        "one-class",
        "unknown-kind",
    ],
)
def test_files_that_cannot_be_used_say_why(text, kind, message):
    with pytest.raises(UploadError) as refused:
        parse_csv(text.encode(), kind=kind)
    assert message in str(refused.value)


def test_limits_on_rows_and_size():
    many = "\n".join(rows(MAX_UPLOAD_ROWS))
    assert parse_csv(many).rows == MAX_UPLOAD_ROWS
    with pytest.raises(UploadError, match="more than 5,000 rows"):
        parse_csv(many + "\n0,0,1")
    with pytest.raises(UploadError, match=r"the file is 2\.0 MB: the playground takes CSV files"):
        parse_csv(b"0,0,1\n" * (2 * MAX_UPLOAD_BYTES // 6 + 1))
    with pytest.raises(UploadError, match="not UTF-8 text"):
        parse_csv(b"\xff\xfe" + "\n".join(rows(10)).encode("utf-16-le"))
    assert issubclass(UploadError, ValueError)
