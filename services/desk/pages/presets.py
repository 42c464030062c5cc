"""Preset questions per kind of request, offered on the create form (editable there)."""

from __future__ import annotations

from protocol.v1.content import RequestKind

K = RequestKind
PRESETS: dict[RequestKind, tuple[str, ...]] = {
    K.MERCHANT_REGISTRATION: (
        "该商户是否在贵局登记注册？",
        "登记的经营地址、经营范围是否与网店公示信息一致？",
        "该商户目前的登记状态（存续、吊销、注销）？",
    ),
    K.COMPLAINANT_IDENTITY: (
        "投诉人是否确有其人？",
        "投诉人提供的联系地址是否属实？",
    ),
    K.DOCUMENT_SERVICE: (
        "请协助向当事人送达所附文书，并回复送达回证。",
        "如无法送达，请说明原因。",
    ),
    K.EVIDENCE_COLLECTION: (
        "请协助调取当事人的相关经营记录。",
        "请说明证据的来源与取得方式。",
    ),
    K.CASE_LEAD_TRANSFER: (
        "现将案件线索移交贵局，请依法处理并反馈处理结果。",
    ),
}
