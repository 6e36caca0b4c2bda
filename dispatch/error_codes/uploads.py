"""Error codes: timesheet and spreadsheet uploads, photos.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import (
    Code,
    Invalid,
    PayloadTooLarge,
    UnsupportedMedia,
)

# --- timesheet and spreadsheet uploads -------------------------------------------------------

WRONG_COLUMNS = Code(
    "WRONG_COLUMNS",
    Invalid,
    "The first row must be the template's header: {columns} (note is optional). {details}",
    "第一行必须是模板表头：{columns}（note 可省略）。{details}",
)
NO_ROWS = Code(
    "NO_ROWS",
    Invalid,
    "The file has a header but no rows. Add one row per visit under the header.",
    "文件只有表头，没有数据行。请在表头下每行填写一条服务记录。",
)
TIMESHEET_INVALID = Code(
    "TIMESHEET_INVALID",
    Invalid,
    "{wrong} of {rows} rows are wrong; nothing was stored. Fix the rows listed in errors and "
    "upload the whole file again.",
    "共 {rows} 行，其中 {wrong} 行有误，未保存任何数据。请按 errors 修改后重新上传整个文件。",
)
EMPTY_FILE = Code(
    "EMPTY_FILE",
    Invalid,
    "The file is empty. Fill in the template: a header row, then one row per visit.",
    "文件为空。请按模板填写：第一行为表头，之后每行一条服务记录。",
)
NOT_A_SPREADSHEET = Code(
    "NOT_A_SPREADSHEET",
    UnsupportedMedia,
    "This file is {what}, not a CSV or XLSX spreadsheet. Upload the timesheet template filled "
    "in, saved as .xlsx or .csv.",
    "该文件不是 CSV 或 XLSX 表格，请使用模板填写后另存为 .xlsx 或 .csv 上传。",
)
FILE_TOO_LARGE = Code(
    "FILE_TOO_LARGE",
    PayloadTooLarge,
    "The file is too large: {what}. Split it into files of at most {rows} rows and {mb} MB.",
    "文件过大：{what}。请拆分为每个不超过 {rows} 行、{mb} MB 的文件。",
)
BAD_ENCODING = Code(
    "BAD_ENCODING",
    Invalid,
    "The file's text encoding is neither UTF-8 nor GBK/GB18030. Save it as 'CSV UTF-8' (or as "
    ".xlsx) and upload it again.",
    "文件编码既不是 UTF-8 也不是 GBK/GB18030，请另存为“CSV UTF-8”或 .xlsx 后重新上传。",
)
MALFORMED_CSV = Code(
    "MALFORMED_CSV",
    Invalid,
    "The CSV is malformed near line {line}: {why}. Check its quotes.",
    "CSV 格式错误（约第 {line} 行），请检查引号。",
)
UNREADABLE_XLSX = Code(
    "UNREADABLE_XLSX",
    Invalid,
    "The workbook could not be read. Open it in Excel or WPS, save it again as .xlsx, and "
    "upload that.",
    "无法读取该工作簿，请在 Excel 或 WPS 中打开并另存为 .xlsx 后重新上传。",
)
FORMULAS_NOT_ALLOWED = Code(
    "FORMULAS_NOT_ALLOWED",
    Invalid,
    "Some cells hold formulas. Enter the values, not formulas (copy, then paste as values).",
    "部分单元格包含公式。请填写数值而不是公式（复制后“选择性粘贴为数值”）。",
)

# --- photos ------------------------------------------------------------------------------------

PHOTO_TOO_LARGE = Code(
    "PHOTO_TOO_LARGE",
    PayloadTooLarge,
    "The photo is too large: {what}. Send a JPEG or PNG of at most {mib} MiB and {mpx} megapixels.",
    "照片过大：请上传不超过 {mib} MiB、{mpx} 百万像素的 JPEG 或 PNG 图片。",
    part=("The photo is larger than {mib} MiB.", "照片超过 {mib} MiB。"),
)
PHOTO_NOT_IMAGE = Code(
    "PHOTO_NOT_IMAGE",
    UnsupportedMedia,
    "The photo is not a readable JPEG or PNG image ({why}).",
    "照片不是可读取的 JPEG 或 PNG 图片。",
)
