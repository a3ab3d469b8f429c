import csv

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from toolkit.errors import RegistryError, ToolkitError
from toolkit.registry import HEADERS, Commune, load_registry, remember_registry
from toolkit.units import Province, find_province, official_communes, write_registry_template

LANG_SON = Province(20, "Lạng Sơn")
HEADER_ROW = list(HEADERS.values())


def write_xlsx(path, rows, header=HEADER_ROW):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("registry") / "registry.xlsx"
    count = write_registry_template(path, LANG_SON)
    return path, count


@pytest.mark.parametrize("typed", ["Lạng Sơn", "lang son", "LANG  SON", " Lang Son ",
                                   "Tỉnh Lạng Sơn", "tinh lang son", "20"])
def test_find_province_accepts_any_spelling(typed):
    assert find_province(typed) == LANG_SON


@pytest.mark.parametrize("typed, code", [
    ("Hà Nội", 1), ("ha noi", 1), ("Thành phố Hà Nội", 1), ("Hồ Chí Minh", 79),
    ("TP. Hồ Chí Minh", 79), ("ho chi minh", 79), ("Đắk Lắk", 66), ("dak lak", 66),
    ("Khánh Hoà", 56), ("Thừa Thiên Huế", 46), ("Đà Nẵng", 48),
])
def test_find_province_cities_and_diacritics(typed, code):
    assert find_province(typed).code == code


def test_unknown_province_suggests_close_names_and_lists_all():
    with pytest.raises(ToolkitError) as caught:
        find_province("Lang Som")
    message = str(caught.value)
    assert 'không có tỉnh nào tên "Lang Som"' in message
    assert "Có phải ý bạn là: Lạng Sơn?" in message
    assert "Thành phố Hồ Chí Minh" in message and "Cà Mau" in message  # the whole list


def test_merged_province_names_the_new_one():
    with pytest.raises(ToolkitError,
                       match='đã sáp nhập vào Bắc Ninh từ ngày 1/7/2025; dùng "Bắc Ninh"'):
        find_province("Bắc Giang")


def test_lang_son_official_communes():
    communes = official_communes(LANG_SON)
    assert len(communes) == 65
    that_khe = next(c for c in communes if c.name == "Thất Khê")
    assert (that_khe.code, that_khe.kind, that_khe.province) == ("06040", "Xã", "Lạng Sơn")
    assert {c.kind for c in communes} == {"Xã", "Phường"}
    assert all(len(c.code) == 5 and c.code.isdigit() for c in communes)
    assert [c.name for c in communes][:3] == ["Ba Sơn", "Bắc Sơn", "Bằng Mạc"]


def test_official_names_have_no_prefix_or_double_spaces():
    names = [c.name for c in official_communes(find_province("Hưng Yên"))]
    assert all(" ".join(n.split()) == n and not n.startswith(("Xã ", "Phường ")) for n in names)


def test_template_layout(template):
    path, count = template
    assert count == 65
    book = load_workbook(path)
    assert book.sheetnames == ["Danh sách xã", "Doanh nghiệp bưu chính", "Hướng dẫn"]
    sheet = book["Danh sách xã"]
    assert [c.value for c in sheet[1]] == HEADER_ROW
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M66"
    assert sheet["K2"].number_format == sheet["L2"].number_format == "DD/MM/YYYY"
    assert sheet.max_row == 66
    codes = [sheet.cell(r, 1) for r in range(2, 67)]
    assert all(isinstance(c.value, str) and c.number_format == "@" for c in codes)
    assert "06040" in [c.value for c in codes]
    assert sheet.column_dimensions["H"].width > sheet.column_dimensions["C"].width
    guide = [r[0] for r in book["Hướng dẫn"].iter_rows(values_only=True)]
    assert 5 <= len(guide) <= 13 and any("Số hộ gia đình" in line for line in guide)
    assert any(line.startswith("Ngày bắt đầu, Ngày kết thúc") for line in guide)
    assert any(line.startswith("Chỉ tiêu giao riêng") and "«Chỉ tiêu: Hộ có cửa hàng số»" in line
               for line in guide)
    assert any(line.endswith("có sổ báo cáo riêng (trang «Báo cáo bưu chính», chia sẻ cho email "
                             "người nhập liệu của doanh nghiệp): mỗi ngày một dòng cho mỗi xã "
                             "doanh nghiệp phụ trách.") for line in guide)


def test_template_loads_with_a_warning_per_commune_without_households(template):
    registry = load_registry(template[0])
    assert len(registry.communes) == 65
    assert len(registry.warnings) == 65
    assert registry.warnings[0] == ("dòng 2: Xã Ba Sơn chưa có số hộ gia đình — "
                                    "các chỉ tiêu % của xã sẽ để trống")


def test_round_trip_after_an_officer_fills_it(template, tmp_path):
    book = load_workbook(template[0])
    sheet = book.active
    column = {c.value: c.column for c in sheet[1]}
    rows = {sheet.cell(r, 2).value: r for r in range(2, sheet.max_row + 1)}
    that_khe, ba_son, bac_son = rows["Thất Khê"], rows["Ba Sơn"], rows["Bắc Sơn"]
    for row, households in ((that_khe, "1.250"), (ba_son, 980.0), (bac_son, "2 310")):
        sheet.cell(row, column["Số hộ gia đình"]).value = households
    for row in range(2, sheet.max_row + 1):
        if row not in (that_khe, ba_son, bac_son):
            sheet.cell(row, column["Số hộ gia đình"]).value = 1000 + row
    sheet.cell(that_khe, column["Huyện (cũ)"]).value = "Tràng Định"
    sheet.cell(that_khe, column["Thôn/bản (ngăn cách bằng ;)"]).value = "Khu 1; Khu 2 ;; Bản Slằng;"
    sheet.cell(that_khe, column["Email người nhập liệu (ngăn cách bằng ;)"]).value = \
        "vanthu.thatkhe@gmail.com, ketoan@langson.gov.vn"
    sheet.cell(that_khe, column["Người liên hệ"]).value = "Hoàng Văn Lý"
    sheet.cell(that_khe, column["Số điện thoại"]).value = 912345678  # typed as a number
    path = tmp_path / "filled.xlsx"
    book.save(path)

    registry = load_registry(path)
    assert registry.warnings == ()
    assert registry.has_districts
    commune = registry.by_code()["06040"]
    assert commune == Commune(
        code="06040", name="Thất Khê", kind="Xã", province="Lạng Sơn", district="Tràng Định",
        households=1250, villages=("Khu 1", "Khu 2", "Bản Slằng"),
        editors=("vanthu.thatkhe@gmail.com", "ketoan@langson.gov.vn"),
        contact_name="Hoàng Văn Lý", contact_phone="0912345678")
    assert commune.display_name == "Xã Thất Khê"
    by_name = {c.name: c for c in registry.communes}
    assert by_name["Ba Sơn"].households == 980 and by_name["Bắc Sơn"].households == 2310

    frame = registry.to_frame()
    assert list(frame.columns) == ["code", "name", "kind", "province", "district", "households",
                                   "villages", "editors", "contact_name", "contact_phone",
                                   "start", "end", "postal"]
    assert len(frame) == 65
    row = frame.set_index("code").loc["06040"]
    assert row["households"] == 1250 and row["villages"] == "Khu 1; Khu 2; Bản Slằng"


def test_messy_registry_reports_every_problem_with_its_row(tmp_path):
    header = HEADER_ROW + ["Ghi chu"]
    rows = [
        ["06040", "Thất Khê", "Xã", "Lạng Sơn", None, 1250],                      # 2 fine
        [6202, "Ba Sơn", "xa", "Lạng Sơn", None, "1.100"],                        # 3 fine
        ["06475", "Bằng Mạc", "Xã", "Lạng Sơn", None, 900, None, "nguyen@"],      # 4
        [None] * 10,                                                              # 5 blank
        ["06325", "Bắc Sơn", "Xã", "Lạng Sơn", None, "abc"],                      # 6
        ["06040", "Thất Khê", "Xã", "Lạng Sơn", None, 1250],                      # 7
        ["06100", None, "Xã", "Lạng Sơn", None, 700],                             # 8
        [None, "Hội Hoan", "Xã", "Lạng Sơn", None, -5],                           # 9
        ["06103", "Na Sầm", "Thị trấn", "Lạng Sơn", None, 1.5],                   # 10
        ["6A", "Tân Tiến", "Xã", "Lạng Sơn", None, 10, "Thôn 1; thôn 1", "a@b.vn; A@b.vn"],  # 11
    ]
    path = write_xlsx(tmp_path / "registry.xlsx", rows, header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert list(caught.value.problems) == [
        'dòng tiêu đề, cột N: cột "Ghi chu" không phải một cột đã biết — xoá cột này, hoặc đổi '
        "tên thành một trong: " + ", ".join(HEADER_ROW),
        "dòng 2 và 7: mã xã 06040 có trên 2 dòng (dòng 2 Xã Thất Khê, dòng 7 Xã Thất Khê) — mỗi "
        'xã chỉ một dòng, với mã xã 5 chữ số chính thức ở "Mã xã" (06040 là Xã Thất Khê trong '
        "danh sách chính thức 2025)",
        'dòng 4: email người nhập liệu "nguyen@" không phải địa chỉ email hợp lệ',
        'dòng 6: "Số hộ gia đình" là "abc", không phải số nguyên — gõ số hộ gia đình, ví dụ 1250',
        'dòng 8: "Tên xã" đang trống — xã nào cũng cần Tên xã',
        'dòng 9: "Mã xã" đang trống — xã nào cũng cần Mã xã',
        'dòng 9: "Số hộ gia đình" là -5 — số hộ gia đình không thể âm',
        'dòng 10: "Loại" là "Thị trấn", không phải một trong Xã, Phường, Đặc khu',
        'dòng 10: "Số hộ gia đình" là "1.5", không phải số nguyên — gõ số hộ gia đình, ví dụ 1250',
        'dòng 11: "Mã xã" là "6A", không phải mã xã — dùng mã 5 chữ số chính thức, ví dụ 06040',
        'dòng 11: thôn/bản "Thôn 1" được ghi 2 lần — chỉ giữ một lần',
        'dòng 11: email người nhập liệu "a@b.vn" được ghi 2 lần — chỉ giữ một lần',
    ]
    assert str(path) in str(caught.value) and "12 lỗi" in str(caught.value)


def test_missing_required_columns_and_empty_registry(tmp_path):
    header = ["Mã xã", "Tên xã", "Số hộ gia đình", "Thôn/bản", "Email người nhập liệu", "Ghi chú"]
    path = write_xlsx(tmp_path / "registry.xlsx", [], header=header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert list(caught.value.problems) == [
        'thiếu cột bắt buộc "Loại" — thêm lại: gõ "Loại" vào dòng tiêu đề, trên một cột trống, '
        "và điền bên dưới Xã, Phường hoặc Đặc khu cho từng xã",
        'thiếu cột bắt buộc "Tỉnh" — thêm lại: gõ "Tỉnh" vào dòng tiêu đề, trên một cột trống, '
        "và điền bên dưới tên tỉnh trên mọi dòng",
        "chưa có xã nào: thêm mỗi xã một dòng dưới dòng tiêu đề "
        "(`toolkit init` ghi sẵn danh sách chính thức)",
        'dòng tiêu đề, cột F: cột "Ghi chú" không phải một cột đã biết — xoá cột này, hoặc đổi '
        "tên thành một trong: " + ", ".join(HEADER_ROW),
    ]


def test_csv_with_semicolons_bom_and_loose_headers(tmp_path):
    path = tmp_path / "registry.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["MA XA", "ten xa", "Loai", "province", "Huyện (cũ)", "so ho gia dinh",
                         "Thôn/bản (ngăn cách bằng ;)", "editors", "Người liên hệ", "phone"])
        writer.writerow(["6040", "Thất Khê", "Xã", "Lạng Sơn", "", "1.250", "Khu 1;Khu 2",
                         "a@langson.gov.vn", "Lý", "0912345678"])
        writer.writerow(["", "", "", "", "", "", "", "", "", ""])
        writer.writerow(["06202", "Xã Ba Sơn", "", "Lạng Sơn", "", "", "", "", "", ""])
    registry = load_registry(path)
    that_khe, ba_son = registry.communes
    assert (that_khe.code, that_khe.households, that_khe.villages) == ("06040", 1250,
                                                                        ("Khu 1", "Khu 2"))
    assert that_khe.contact_phone == "0912345678" and that_khe.district is None
    assert (ba_son.display_name, ba_son.households) == ("Xã Ba Sơn", None)
    assert registry.warnings == ("dòng 4: Xã Ba Sơn chưa có số hộ gia đình — "
                                 "các chỉ tiêu % của xã sẽ để trống",)
    assert not registry.has_districts


def test_csv_with_commas_keeps_semicolon_headers(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_text(",".join(HEADER_ROW) + "\n06040,Thất Khê,Xã,Lạng Sơn,,1250,,,,\n",
                    encoding="utf-8")
    assert load_registry(path).communes[0].households == 1250


def test_csv_not_utf8_says_how_to_save(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(",".join(HEADER_ROW).encode("utf-8") + "\nKhê".encode("cp1258"))
    with pytest.raises(RegistryError, match="CSV UTF-8"):
        load_registry(path)


def test_missing_households_is_a_warning_and_names_are_checked(tmp_path):
    rows = [["06040", "Thất Khê", "Xã", "Lạng Sơn", None, None],
            ["06202", "Ba Son", "Xã", "Lạng Sơn", None, 800],
            ["99999", "Mới", "Xã", "Lạng Sơn", None, 10]]
    registry = load_registry(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert len(registry.communes) == 3
    assert registry.warnings == (
        "dòng 2: Xã Thất Khê chưa có số hộ gia đình — các chỉ tiêu % của xã sẽ để trống",
        "dòng 3: mã 06202 là Xã Ba Sơn trong danh sách chính thức 2025, nhưng danh sách xã ghi "
        "Xã Ba Son",
        "dòng 4: mã 99999 (Xã Mới) không phải mã xã chính thức năm 2025 — hãy kiểm tra lại",
    )
    assert registry.to_frame()["households"].isna().tolist() == [True, False, False]


def test_missing_file_and_wrong_format(tmp_path):
    with pytest.raises(RegistryError, match="không tìm thấy tệp"):
        load_registry(tmp_path / "nope.xlsx")
    (tmp_path / "registry.ods").write_text("x")
    with pytest.raises(RegistryError, match="lưu danh sách xã thành .xlsx hoặc .csv"):
        load_registry(tmp_path / "registry.ods")
    (tmp_path / "broken.xlsx").write_text("not a zip")
    with pytest.raises(RegistryError, match="không mở được như một tệp Excel"):
        load_registry(tmp_path / "broken.xlsx")


def test_template_never_overwrites_a_registry(template):
    with pytest.raises(ToolkitError, match="đã có"):
        write_registry_template(template[0], LANG_SON)


# columns deleted, retyped and repeated -----------------------------------------------------------

FILLED = [
    ["06040", "Thất Khê", "Xã", "Lạng Sơn", "Tràng Định", 1250, "Khu 1; Khu 2", "a@langson.gov.vn",
     "Hoàng Văn Lý", "0912345678"],
    ["06202", "Ba Sơn", "Xã", "Lạng Sơn", "Cao Lộc", 800, "Thôn Nà Pàn", "b@langson.gov.vn",
     "Lý Thị Mai", "0912000111"],
]


def without(column: str, header=HEADER_ROW, rows=FILLED):
    at = header.index(column)
    return [h for i, h in enumerate(header) if i != at], \
        [[v for i, v in enumerate(r) if i != at] for r in rows]


@pytest.mark.parametrize("key, under", [
    ("households", "số hộ gia đình của từng xã (được để trống; khi đó các chỉ tiêu % của xã "
                   "để trống)"),
    ("villages", "các thôn/bản của từng xã, ngăn cách bằng ; (được để trống)"),
    ("editors", "email của cán bộ nhập liệu từng xã, ngăn cách bằng ; (được để trống)"),
])
def test_a_deleted_required_column_is_one_error_naming_it(tmp_path, key, under):
    header, rows = without(HEADERS[key])
    path = write_xlsx(tmp_path / "registry.xlsx", rows, header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert str(caught.value) == (
        f"{path}: 1 lỗi trong danh sách xã:\n"
        f'  - thiếu cột bắt buộc "{HEADERS[key]}" — thêm lại: gõ "{HEADERS[key]}" vào dòng '
        f"tiêu đề, trên một cột trống, và điền bên dưới {under}")


@pytest.mark.parametrize("key, lost", [
    ("district", "bảng tổng hợp không có số liệu theo huyện"),
    ("contact_name", "lời nhắc không ghi tên người liên hệ"),
    ("contact_phone", "lời nhắc không ghi số điện thoại liên hệ"),
])
def test_a_deleted_optional_column_is_one_warning(tmp_path, key, lost):
    header, rows = without(HEADERS[key])
    registry = load_registry(write_xlsx(tmp_path / "registry.xlsx", rows, header))
    assert len(registry.communes) == 2
    assert registry.warnings == (f'thiếu cột "{HEADERS[key]}", nên {lost} — thêm lại cột này '
                                 "vào dòng tiêu đề nếu cần",)


@pytest.mark.parametrize("typed", [
    ["MÃ XÃ", "tên  xã", "Loai", "TINH", "huyen (cu)", "So ho gia dinh", "Thôn / Bản",
     "Email người nhập liệu", "nguoi lien he", "SỐ ĐIỆN THOẠI"],
    ["Mã xã *", "Tên xã:", "Loại", "Tỉnh", "Huyện", "Số hộ gia đình", "Thôn/bản (cách nhau bởi ;)",
     "Email người nhập liệu (Gmail)", "Người liên hệ", "Số điện thoại"],
])
def test_retyped_headers_are_read(tmp_path, typed):
    registry = load_registry(write_xlsx(tmp_path / "registry.xlsx", FILLED, typed))
    assert registry.warnings == ()
    assert registry.communes[0] == Commune(
        "06040", "Thất Khê", "Xã", "Lạng Sơn", "Tràng Định", 1250, ("Khu 1", "Khu 2"),
        ("a@langson.gov.vn",), "Hoàng Văn Lý", "0912345678")


def test_a_misspelt_header_is_one_error_with_the_header_to_type(tmp_path):
    header = [h if h != HEADERS["households"] else "So hô gia dinhh" for h in HEADER_ROW]
    path = write_xlsx(tmp_path / "registry.xlsx", FILLED, header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert list(caught.value.problems) == [
        'dòng tiêu đề, cột F: cột "So hô gia dinhh" không phải một cột đã biết — có phải ý bạn '
        'là "Số hộ gia đình"? Gõ tiêu đề đúng như "Số hộ gia đình"']


def test_a_shortened_header_is_one_error_with_the_header_to_type(tmp_path):
    header = [h if h != HEADERS["editors"] else "Email" + " người" for h in HEADER_ROW]
    path = write_xlsx(tmp_path / "registry.xlsx", FILLED, header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert list(caught.value.problems) == [
        'dòng tiêu đề, cột H: cột "Email người" không phải một cột đã biết — có phải ý bạn là '
        '"Email người nhập liệu (ngăn cách bằng ;)"? Gõ tiêu đề đúng như "Email người nhập liệu '
        '(ngăn cách bằng ;)"']


def test_a_header_typed_twice_names_both_columns(tmp_path):
    header = HEADER_ROW + ["so ho gia dinh"]
    path = write_xlsx(tmp_path / "registry.xlsx", FILLED, header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert list(caught.value.problems) == [
        'dòng tiêu đề, cột N: cột "so ho gia dinh" xuất hiện hai lần (cả cột F "Số hộ gia '
        'đình") — chỉ giữ một cột']


@st.composite
def retyped(draw, header: str) -> str:
    """``header`` as a person retypes it: any case, diacritics or not, spaces doubled or
    around the slash, the "(…)" note kept or dropped, a mark after it."""
    from toolkit.registry import fold

    text = header.split(" (")[0] if draw(st.booleans()) else header
    text = fold(text) if draw(st.booleans()) else text
    text = "".join(c.upper() if draw(st.booleans()) else c for c in text)
    text = text.replace(" ", draw(st.sampled_from([" ", "  ", " \u00a0"])))
    text = text.replace("/", draw(st.sampled_from(["/", " / ", "/ "])))
    return text + draw(st.sampled_from(["", ":", " *", "*"]))


@given(data=st.data())
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_retyped_header_row_is_read(tmp_path, data):
    typed = [data.draw(retyped(h)) for h in HEADER_ROW]
    assume(any(t.endswith((":", "*")) or " / " in t for t in typed))
    registry = load_registry(write_xlsx(tmp_path / "registry.xlsx", FILLED, typed))
    assert registry.warnings == ()
    assert registry.by_code()["06202"].villages == ("Thôn Nà Pàn",)


def test_a_folded_header_that_could_be_two_columns_needs_its_diacritics(monkeypatch, tmp_path):
    import toolkit.registry as registry_module

    columns = registry_module.COLUMNS + (("note", "Ghi chú", False), ("other", "Ghì chủ", False))
    monkeypatch.setattr(registry_module, "COLUMNS", columns)
    monkeypatch.setattr(registry_module, "HEADERS", {k: h for k, h, _ in columns})
    monkeypatch.setitem(registry_module._LOST, "note", "nothing")
    monkeypatch.setitem(registry_module._LOST, "other", "nothing")
    header = HEADER_ROW + ["ghi chu", "GHÌ CHỦ"]
    path = write_xlsx(tmp_path / "registry.xlsx", FILLED, header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert [p.split(" — ")[0] for p in caught.value.problems] == [
        'dòng tiêu đề, cột N: cột "ghi chu" không phải một cột đã biết']


# duplicates --------------------------------------------------------------------------------------

def test_a_code_on_several_rows_names_the_rows_the_communes_and_the_fix(tmp_path):
    rows = FILLED + [["06040", "Thất Khê", "Xã", "Lạng Sơn", None, 1250],
                     ["06202", "Hội Hoan", "Xã", "Lạng Sơn", None, 900],
                     ["06040", "Xã Thất Khê", None, "Lạng Sơn", None, 1250]]
    path = write_xlsx(tmp_path / "registry.xlsx", rows)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert list(caught.value.problems) == [
        "dòng 2, 4 và 6: mã xã 06040 có trên 3 dòng (dòng 2 Xã Thất Khê, dòng 4 Xã Thất Khê, "
        'dòng 6 Xã Thất Khê) — mỗi xã chỉ một dòng, với mã xã 5 chữ số chính thức ở "Mã xã" '
        "(06040 là Xã Thất Khê trong danh sách chính thức 2025)",
        "dòng 3 và 5: mã xã 06202 có trên 2 dòng (dòng 3 Xã Ba Sơn, dòng 5 Xã Hội Hoan) — mỗi "
        'xã chỉ một dòng, với mã xã 5 chữ số chính thức ở "Mã xã" (06202 là Xã Ba Sơn trong '
        "danh sách chính thức 2025; mã của Xã Hội Hoan là 06151)",
    ]


def test_a_duplicate_code_is_said_in_the_same_run_as_other_problems_of_its_rows(tmp_path):
    rows = FILLED + [["6040", "Xã Thất Khê", None, "Lạng Sơn", None, "nhiều"]]
    path = write_xlsx(tmp_path / "registry.xlsx", rows)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert [p.split(" — ")[0] for p in caught.value.problems] == [
        "dòng 2 và 4: mã xã 06040 có trên 2 dòng (dòng 2 Xã Thất Khê, dòng 4 Xã Thất Khê)",
        'dòng 4: "Số hộ gia đình" là "nhiều", không phải số nguyên']


@pytest.mark.parametrize("typed", ["Mãxã", "MA-XA", "mã_xã"])
def test_a_header_retyped_without_its_space_is_read(tmp_path, typed):
    header = [typed, *HEADER_ROW[1:]]
    assert load_registry(write_xlsx(tmp_path / "registry.xlsx", FILLED, header)).communes


def test_one_name_twice_in_a_district_is_a_warning_and_one_editor_for_two_is_fine(tmp_path):
    editor = "van.thu@langson.gov.vn"
    rows = [["06040", "Thất Khê", "Xã", "Lạng Sơn", "Tràng Định", 1250, None, editor],
            ["06043", "Thất Khê", "Xã", "Lạng Sơn", "Tràng Định", 700, None, editor],
            ["06202", "Ba Sơn", "Xã", "Lạng Sơn", "Cao Lộc", 800, None, editor],
            ["06205", "Ba Sơn", "Xã", "Lạng Sơn", "Văn Quan", 800]]
    registry = load_registry(write_xlsx(tmp_path / "registry.xlsx", rows))
    assert len(registry.communes) == 4
    assert registry.warnings[0] == (
        "dòng 2 và 3: Xã Thất Khê được ghi 2 lần ở Huyện (cũ) Tràng Định (mã 06040, 06043) — "
        "nếu là cùng một xã, chỉ giữ một dòng; nếu không, đối chiếu tên với danh sách chính "
        "thức")
    assert not any("Ba Sơn được ghi" in w for w in registry.warnings)    # two districts
    assert not any(editor in w for w in registry.warnings)


def test_a_title_above_the_header_row_is_skipped_and_rows_keep_their_numbers(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH XÃ, PHƯỜNG TỈNH LẠNG SƠN"])
    sheet.append([])
    sheet.append(HEADER_ROW)
    for row in [*FILLED, ["06041", "Thất Khê", "Xã", "Lạng Sơn", None, "nhiều"]]:
        sheet.append(row)
    book.save(tmp_path / "registry.xlsx")
    with pytest.raises(RegistryError) as caught:
        load_registry(tmp_path / "registry.xlsx")
    assert [p.split(" — ")[0] for p in caught.value.problems] == [
        'dòng 6: "Số hộ gia đình" là "nhiều", không phải số nguyên']


def test_the_communes_sheet_is_read_even_when_another_sheet_was_put_first(tmp_path):
    path = write_xlsx(tmp_path / "registry.xlsx", FILLED)
    book = load_workbook(path)
    book.active.title = "Danh sách xã"
    book.create_sheet("Ghi chú", 0).append(["Cập nhật ngày 20/11"])
    book.save(path)
    assert [c.code for c in load_registry(path).communes] == ["06040", "06202"]


# What a cell can hold: Excel files cannot store most control characters (openpyxl
# refuses them), so no registry a person saves has them; tabs and line breaks it keeps.
ILLEGAL = "".join(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32)])
CELL = st.one_of(st.none(), st.integers(-10, 10**6),
                 st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=ILLEGAL),
                         max_size=8),
                 st.booleans(),
                 st.floats(allow_nan=False, allow_infinity=False, width=32),
                 st.sampled_from(["06040", "6040", "Xã", "a@b.vn; a@b.vn", "1.250", " "]))


@given(row=st.integers(0, 2), column=st.integers(0, len(HEADER_ROW)), value=CELL)
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_cell_anywhere_in_the_registry_loads_or_is_a_listed_problem(tmp_path, row, column,
                                                                        value):
    table = [[*HEADER_ROW, None], *([*r, *[None] * (len(HEADER_ROW) - len(r) + 1)]
                                    for r in FILLED)]
    table[row][column] = value
    path = write_xlsx(tmp_path / "registry.xlsx", table[1:], table[0])
    try:
        load_registry(path)
    except RegistryError as exc:
        assert exc.problems


def test_a_checked_registry_is_remembered_until_its_bytes_change(tmp_path):
    """Issue 15: a sweep does not read and check an unchanged registry again."""
    path = write_xlsx(tmp_path / "registry.xlsx", [
        ["06040", "Thất Khê", "Xã", "Lạng Sơn", None, 1200, "Thôn A; Thôn B", "a@x.vn", None,
         None],
        ["06001", "Tên Lạ", "Xã", "Lạng Sơn", None, None, "", "", None, None]])
    cache = tmp_path / "ledger.sqlite.registry.json"
    checked = load_registry(path, cache=cache)
    assert not cache.exists()                       # kept once the whole workspace passed
    remember_registry(checked, cache)
    assert checked.warnings and checked.communes[0].villages == ("Thôn A", "Thôn B")
    assert load_registry(path, cache=cache) == checked == load_registry(path)
    # What the cache says is what a run believes while the bytes are the same...
    kept = cache.read_text(encoding="utf-8")
    cache.write_text(kept.replace("Thất Khê", "Thất Khê (đã nhớ)"), encoding="utf-8")
    assert load_registry(path, cache=cache).communes[0].name == "Thất Khê (đã nhớ)"
    # ...and a registry saved again is read and checked again.
    book = load_workbook(path)
    book.active["B2"] = "Thất Khê"
    book.active["F2"] = 1300
    book.save(path)
    again = load_registry(path, cache=cache)
    assert (again.communes[0].name, again.communes[0].households) == ("Thất Khê", 1300)
    remember_registry(again, cache)
    assert load_registry(path, cache=cache) == again
    write_xlsx(path, [["06040", "Xã", "Lạng Sơn"]], header=["Mã xã", "Loại", "Tỉnh"])
    for _ in range(2):                              # a problem is never remembered as passed
        with pytest.raises(RegistryError, match="Tên xã"):
            load_registry(path, cache=cache)


def test_a_communes_phase_is_read_checked_and_remembered(tmp_path):
    """P9 item 3: a phase-2 commune starts later; a bad day or an end before the start is a
    problem naming the row and the fix."""
    from datetime import date, datetime

    filled = [["06040", "Thất Khê", "Xã", "Lạng Sơn", None, 1200, "", "", None, None,
               datetime(2021, 9, 20), None],
              ["06001", "Tân Tiến", "Xã", "Lạng Sơn", None, 800, "", "", None, None,
               "20/07/2021", "2021-12-31"],
              ["06019", "Na Sầm", "Xã", "Lạng Sơn", None, 900, "", "", None, None, None, None]]
    path = write_xlsx(tmp_path / "registry.xlsx", filled)
    registry = load_registry(path)
    phases = [(c.start, c.end) for c in registry.communes]
    assert phases == [(date(2021, 9, 20), None), (date(2021, 7, 20), date(2021, 12, 31)),
                      (None, None)]
    assert registry.has_phases
    campaign = (date(2021, 7, 20), date(2021, 12, 31))
    assert registry.communes[0].window(campaign) == (date(2021, 9, 20), date(2021, 12, 31))
    assert registry.communes[2].window(campaign) == campaign
    cache = tmp_path / "registry.json"
    remember_registry(registry, cache)
    assert load_registry(path, cache=cache).communes == registry.communes
    filled[0][10], filled[1][10], filled[1][11] = "sau Tết", "31/12/2021", "20/07/2021"
    with pytest.raises(RegistryError) as caught:
        load_registry(write_xlsx(tmp_path / "bad.xlsx", filled))
    assert list(caught.value.problems) == [
        'dòng 2: "Ngày bắt đầu" là "sau Tết", không phải một ngày — gõ ngày như 20/09/2021, '
        "hoặc để trống nếu xã báo cáo suốt đợt",
        'dòng 3: "Ngày kết thúc" 20/07/2021 sớm hơn "Ngày bắt đầu" 31/12/2021 — sửa một '
        "trong hai ngày, hoặc để trống ngày kết thúc"]


def test_a_registry_without_phase_columns_loads_without_a_warning_about_them(tmp_path):
    header = HEADER_ROW[:10]
    registry = load_registry(write_xlsx(tmp_path / "registry.xlsx",
                                        [r[:10] for r in FILLED], header))
    assert registry.warnings == () and not registry.has_phases


SHOPS_TARGET = "Chỉ tiêu: Hộ có cửa hàng số"
ACCOUNTS_TARGET = "chi tieu:  ho co tai khoan thanh toan dien tu"     # as retyped on a phone


def test_assigned_targets_are_read_as_shares_or_counts(tmp_path):
    """P9 item 2: a commune's own target is a share of households (60%, 0,6, a cell formatted
    as %) or a count (120, 1.200); blank keeps the template's; it survives the cache."""
    header = HEADER_ROW[:10] + [SHOPS_TARGET, ACCOUNTS_TARGET]
    rows = [FILLED[0] + ["60%", "1.200"], FILLED[1] + ["0,6", 120],
            ["06001", "Đoàn Kết", "Xã", "Lạng Sơn", None, 900, "", "", None, None, 0.35, None],
            ["06019", "Tân Tiến", "Xã", "Lạng Sơn", None, 700, "", "", None, None, None, "100%"]]
    path = write_xlsx(tmp_path / "registry.xlsx", rows, header)
    book = load_workbook(path)
    book.active["K5"].value, book.active["K5"].number_format = 1, "0%"   # Excel's 100%
    book.save(path)
    registry = load_registry(path)
    shops, accounts = "Hộ có cửa hàng số", "ho co tai khoan thanh toan dien tu"
    assert [c.targets for c in registry.communes] == [
        ((shops, "share", 0.6), (accounts, "count", 1200)),
        ((shops, "share", 0.6), (accounts, "count", 120)),
        ((shops, "share", 0.35),),
        ((shops, "share", 1.0), (accounts, "share", 1.0))]
    assert registry.target_labels == (shops, accounts)
    assert registry.warnings == ()
    cache = tmp_path / "registry.json"
    remember_registry(registry, cache)
    assert load_registry(path, cache=cache).communes == registry.communes


@pytest.mark.parametrize("typed, problem", [
    ("nhiều", '"Chỉ tiêu: Hộ có cửa hàng số" là "nhiều", không phải một chỉ tiêu — gõ tỷ lệ '
              "số hộ như 60% (hoặc 0,6), hoặc số lượng như 120; để trống thì xã dùng mức chung "
              "của mẫu báo cáo"),
    ("150%", '"Chỉ tiêu: Hộ có cửa hàng số" là "150%" — chỉ tiêu phải lớn hơn 0 và tỷ lệ không '
             "quá 100%"),
    (0, '"Chỉ tiêu: Hộ có cửa hàng số" là "0" — chỉ tiêu phải lớn hơn 0'),
    ("1,5", '"Chỉ tiêu: Hộ có cửa hàng số" là "1,5" — chỉ tiêu phải lớn hơn 0 và tỷ lệ không '
            "quá 100%"),
])
def test_a_bad_assigned_target_names_the_row_the_column_and_the_fix(tmp_path, typed, problem):
    header = HEADER_ROW[:10] + [SHOPS_TARGET]
    path = write_xlsx(tmp_path / "registry.xlsx", [FILLED[0] + [None], FILLED[1] + [typed]],
                      header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    (message,) = caught.value.problems
    assert message.startswith(f"dòng 3: {problem}")


def test_a_target_column_no_template_has_is_a_problem_of_the_workspace(province):
    """A "Chỉ tiêu:" column is matched against the templates' targets when the workspace is
    checked: a misspelt label would silently leave every commune on the flat threshold."""
    from toolkit.errors import SetupError
    from toolkit.workspace import check_workspace

    registry = province.parent / "registry.xlsx"
    book = load_workbook(registry)
    sheet = book.worksheets[0]
    column = sheet.max_column + 1
    sheet.cell(1, column).value = "Chỉ tiêu: Hộ có cửa hàng"
    sheet.cell(2, column).value = "60%"
    book.save(registry)
    with pytest.raises(SetupError) as caught:
        check_workspace(province)
    assert ('dòng tiêu đề: cột "Chỉ tiêu: Hộ có cửa hàng" không khớp chỉ tiêu nào của các mẫu '
            'báo cáo — đổi tiêu đề thành một trong: "Chỉ tiêu: Hộ có cửa hàng số"') \
        in str(caught.value)
    sheet.cell(1, column).value = "Chỉ tiêu: hộ có cửa hàng số"
    book.save(registry)
    check_workspace(province)


ENTERPRISES = [("VTP", "Chi nhánh Bưu chính Viettel Lạng Sơn", "Bưu chính Viettel",
                "vtp.langson@example.vn; kinhdoanh@example.vn", "Hoàng Mạnh Tuân", 912000222),
               ("BDLS", "Bưu điện tỉnh Lạng Sơn", "Bưu điện", "bd.langson@example.vn")]


def test_postal_enterprises_and_the_communes_they_serve(template, tmp_path):
    from conftest import set_postal

    path = tmp_path / "registry.xlsx"
    path.write_bytes(template[0].read_bytes())
    set_postal(path, ENTERPRISES, {"06040": "VTP", "06202": "bdls"})
    book = load_workbook(path)
    assert [c.value for c in book["Doanh nghiệp bưu chính"][1]] == [
        "Mã doanh nghiệp", "Tên doanh nghiệp", "Loại",
        "Email người nhập liệu (ngăn cách bằng ;)", "Người liên hệ", "Số điện thoại"]
    guide = [r[0] for r in book["Hướng dẫn"].iter_rows(values_only=True)]
    assert any(line.startswith("Doanh nghiệp bưu chính: ") for line in guide)

    registry = load_registry(path)
    viettel, post = registry.enterprises
    assert (viettel.code, viettel.kind, viettel.editors, viettel.contact_phone) == (
        "VTP", "Viettel Post", ("vtp.langson@example.vn", "kinhdoanh@example.vn"), "0912000222")
    assert (post.code, post.name, post.kind) == ("BDLS", "Bưu điện tỉnh Lạng Sơn", "Bưu điện")
    communes = registry.by_code()
    assert registry.enterprise_of(communes["06040"]) == viettel
    assert registry.enterprise_of(communes["06202"]) == post
    assert registry.enterprise_of(communes["06019"]) is None
    cache = tmp_path / "registry.cache.json"
    remember_registry(registry, cache)
    assert load_registry(path, cache) == registry


def test_postal_mistakes_name_their_sheet_row_and_fix(template, tmp_path):
    from conftest import set_postal

    path = tmp_path / "registry.xlsx"
    path.write_bytes(template[0].read_bytes())
    set_postal(path, [("VTP", "Viettel Post Lạng Sơn", "Viettel", "vtp@example.vn"),
                      ("123", "Bưu điện", "Bưu cục", "không-phải-email"),
                      ("VTP", "Viettel lần hai", "Viettel Post", "")],
               {"06040": "VNP"})
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    problems = str(caught.value)
    that_khe = [c.value for c in load_workbook(path).worksheets[0]["A"]].index("06040") + 1
    for expected in (
            f'dòng {that_khe}: "Doanh nghiệp bưu chính" là "VNP", không phải mã doanh nghiệp '
            'nào trên trang "Doanh nghiệp bưu chính" — gõ một trong: VTP',
            'trang "Doanh nghiệp bưu chính", dòng 3: mã doanh nghiệp "123" cần có chữ cái',
            'trang "Doanh nghiệp bưu chính", dòng 3: "Loại" là "Bưu cục" — gõ Viettel Post '
            "hoặc Bưu điện",
            'trang "Doanh nghiệp bưu chính", dòng 3: email người nhập liệu "không-phải-email" '
            "không phải địa chỉ email hợp lệ",
            'trang "Doanh nghiệp bưu chính", dòng 2 và 4: mã doanh nghiệp "VTP" có trên 2 dòng'):
        assert expected in problems


def test_a_commune_naming_an_enterprise_without_the_sheet(tmp_path):
    header = HEADER_ROW
    rows = [FILLED[0] + [None, None, "VTP"]]
    path = write_xlsx(tmp_path / "registry.xlsx", rows, header)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert 'dòng 2: "Doanh nghiệp bưu chính" là "VTP" nhưng tệp chưa có trang "Doanh nghiệp ' \
        'bưu chính" — thêm trang đó' in str(caught.value)
    path = write_xlsx(tmp_path / "plain.xlsx", FILLED)       # no column, no sheet: as before
    assert load_registry(path).warnings == ()


def test_two_communes_of_one_name_served_by_one_enterprise_are_a_problem(template, tmp_path):
    """An enterprise's rows are keyed by the commune's name: two of its communes sharing one
    would read as one row twice (one commune's figures lost), so the registry says so."""
    from conftest import set_postal

    path = tmp_path / "registry.xlsx"
    path.write_bytes(template[0].read_bytes())
    book = load_workbook(path)
    sheet = book.worksheets[0]
    codes = [c.value for c in sheet["A"]]
    name = [c.value for c in sheet[1]].index(HEADERS["name"]) + 1
    kind = [c.value for c in sheet[1]].index(HEADERS["kind"]) + 1
    first, second = codes.index("06040") + 1, codes.index("06001") + 1
    sheet.cell(second, name).value = sheet.cell(first, name).value
    sheet.cell(second, kind).value = sheet.cell(first, kind).value
    book.save(path)
    set_postal(path, [("VTP", "Viettel Post Lạng Sơn", "Viettel Post", "vtp@example.vn"),
                      ("BDT", "Bưu điện tỉnh", "Bưu điện", "bdt@example.vn")],
               {"06040": "VTP", "06001": "VTP"})
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert f"dòng {max(first, second)}: Xã Thất Khê trùng tên với xã ở dòng " \
           f"{min(first, second)}, cùng do Viettel Post Lạng Sơn (VTP) phụ trách" \
           in str(caught.value)
    set_postal(path, [], {"06001": "BDT"})          # served by another: a warning at most
    assert {c.code for c in load_registry(path).communes} >= {"06040", "06001"}
