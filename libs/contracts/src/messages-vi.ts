/**
 * Vietnamese for every English message the hub puts in a problem's `detail` or an issue's `message`.
 *
 * One table, keyed by the English text, rather than a message key on each `DomainError`: the English
 * message stays the one source of the meaning (logs, the Kafka dead-letter headers and the tests keep
 * reading it), the ~150 throw sites stay as they are, and a test (test/i18n) reads every throw site in
 * the sources and fails when its message has no entry here. `{0}`, `{1}`… stand for the interpolated
 * parts; the Vietnamese may reorder them. An interpolated part that is itself an English text of this
 * table (a nested error, `the message value`) is translated too; any other part (a code, a number, a
 * name) is copied as it is, so a translation never adds anything the English did not hold.
 */
const ENTRIES: readonly (readonly [en: string, vi: string])[] = [
  // Requests, headers and bodies (HTTP binding, strict JSON)
  ['send Authorization: Bearer <token>', 'hãy gửi Authorization: Bearer <token>'],
  ['send application/json', 'hãy gửi application/json'],
  ['the request body is larger than the limit', 'thân yêu cầu lớn hơn giới hạn cho phép'],
  ['the request body is not valid', 'thân yêu cầu không hợp lệ'],
  ['the request is not valid HTTP/1.1 ({0})', 'yêu cầu không phải HTTP/1.1 hợp lệ ({0})'],
  ['the request was refused by the HTTP layer ({0})', 'tầng HTTP đã từ chối yêu cầu ({0})'],
  ['only the expectation 100-continue is supported', 'chỉ hỗ trợ Expect: 100-continue'],
  ['an HTTP/1.1 request must have a Host header', 'yêu cầu HTTP/1.1 phải có tiêu đề Host'],
  ['header {0} is sent more than once; send it once', 'tiêu đề {0} được gửi nhiều lần; chỉ gửi một lần'],
  ['header {0} appears more than once', 'tiêu đề {0} xuất hiện nhiều lần'],
  ['header {0} appears {1} times', 'tiêu đề {0} xuất hiện {1} lần'],
  ['header {0} is repeated', 'tiêu đề {0} bị lặp lại'],
  ['header {0} is not accepted', 'tiêu đề {0} không được chấp nhận'],
  [
    'header {0} is not accepted: in binary mode the body is the event data',
    'tiêu đề {0} không được chấp nhận: ở chế độ nhị phân, thân yêu cầu là dữ liệu của sự kiện',
  ],
  [
    'header {0} is not accepted: in binary mode the message value is the event data',
    'tiêu đề {0} không được chấp nhận: ở chế độ nhị phân, giá trị bản tin là dữ liệu của sự kiện',
  ],
  [
    'header {0} holds raw bytes outside printable ASCII; percent-encode them as UTF-8',
    'tiêu đề {0} chứa byte thô ngoài bảng ASCII in được; hãy mã hóa phần trăm chúng theo UTF-8',
  ],
  [
    'header {0} has an invalid percent-encoded UTF-8 sequence',
    'tiêu đề {0} có chuỗi UTF-8 mã hóa phần trăm không hợp lệ',
  ],
  [
    'header ce_datacontenttype ({0}) contradicts content-type ({1})',
    'tiêu đề ce_datacontenttype ({0}) mâu thuẫn với content-type ({1})',
  ],
  ['ce_datacontenttype and content-type differ', 'ce_datacontenttype và content-type khác nhau'],
  ['charset {0} is not supported; JSON must be UTF-8', 'không hỗ trợ bảng mã {0}; JSON phải là UTF-8'],
  ['Content-Type {0} is not accepted: {1}', 'Content-Type {0} không được chấp nhận: {1}'],
  ['no Content-Type: {0}', 'thiếu Content-Type: {0}'],
  [
    'send application/cloudevents+json (one event), application/cloudevents-batch+json (a batch), or binary mode: ce-* headers with an application/json body',
    'hãy gửi application/cloudevents+json (một sự kiện), application/cloudevents-batch+json (một lô), hoặc chế độ nhị phân: các tiêu đề ce-* với thân application/json',
  ],
  [
    'binary mode accepts only application/json or a +json media type as data, got {0}',
    'chế độ nhị phân chỉ nhận dữ liệu application/json hoặc kiểu +json, nhận được {0}',
  ],
  ['a {0} body must be one JSON object (the event)', 'thân {0} phải là một đối tượng JSON (sự kiện)'],
  ['a {0} body must be a JSON array of events', 'thân {0} phải là một mảng JSON các sự kiện'],
  ['the body is empty; it must hold {0}', 'thân yêu cầu rỗng; nó phải chứa {0}'],
  ['one CloudEvent (a JSON object)', 'một CloudEvent (một đối tượng JSON)'],
  ['a JSON array of CloudEvents', 'một mảng JSON các CloudEvent'],
  ['the event data (JSON)', 'dữ liệu của sự kiện (JSON)'],
  ['the body must be a JSON object', 'thân yêu cầu phải là một đối tượng JSON'],
  ['batch is empty', 'lô rỗng'],
  [
    'batch has {0} events; at most {1} are accepted in one request',
    'lô có {0} sự kiện; mỗi yêu cầu nhận tối đa {1}',
  ],
  [
    'every element of a batch must be a JSON object (an event)',
    'mỗi phần tử của lô phải là một đối tượng JSON (một sự kiện)',
  ],
  ['an event must be a JSON object', 'một sự kiện phải là một đối tượng JSON'],
  ['the CloudEvent lacks {0}', 'CloudEvent thiếu {0}'],
  ['body', 'thân yêu cầu'],
  ['the message value', 'giá trị bản tin'],
  ['the message value (the event data)', 'giá trị bản tin (dữ liệu của sự kiện)'],
  ['{0} is not valid JSON: {1}', '{0} không phải JSON hợp lệ: {1}'],
  ['{0} is not valid UTF-8', '{0} không phải UTF-8 hợp lệ'],
  ['{0} is not valid Unicode', '{0} không phải Unicode hợp lệ'],
  ['is not valid UTF-8', 'không phải UTF-8 hợp lệ'],
  ['{0} nests arrays and objects deeper than {1} levels', '{0} lồng mảng và đối tượng sâu quá {1} cấp'],
  ['nests deeper than {0} levels', 'lồng sâu quá {0} cấp'],
  [
    '{0}: a member name appears twice in one object',
    '{0}: một tên thành viên xuất hiện hai lần trong cùng một đối tượng',
  ],
  ['is repeated in its object', 'bị lặp lại trong đối tượng của nó'],
  ['is repeated', 'bị lặp lại'],
  ['member name {0}', 'tên thành viên {0}'],
  ['{0}: a string longer than {1} characters is not accepted', '{0}: không nhận chuỗi dài hơn {1} ký tự'],
  ['is longer than {0} characters', 'dài hơn {0} ký tự'],
  [
    '{0}: text must be valid Unicode: a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair) is not accepted',
    '{0}: văn bản phải là Unicode hợp lệ: không nhận một nửa cặp thay thế UTF-16 đứng riêng (một mã thoát \\ud800-\\udfff không có cặp)',
  ],
  ['holds a lone UTF-16 surrogate', 'chứa một nửa cặp thay thế UTF-16 đứng riêng'],
  [
    '{0}: a number too large for a 64-bit float is not accepted',
    '{0}: không nhận số quá lớn với kiểu số thực 64 bit',
  ],
  ['is beyond the range of a 64-bit float', 'vượt quá phạm vi của số thực 64 bit'],
  [
    '{0}: an integer beyond ±(2^53 − 1) is not accepted: it cannot be stored exactly; send it as a string',
    '{0}: không nhận số nguyên vượt quá ±(2^53 − 1): không thể lưu chính xác; hãy gửi dưới dạng chuỗi',
  ],
  ['is an integer beyond ±(2^53 − 1)', 'là số nguyên vượt quá ±(2^53 − 1)'],
  ['{0}: an array of more than {1} elements is not accepted', '{0}: không nhận mảng có hơn {1} phần tử'],
  ['has more than {0} elements', 'có hơn {0} phần tử'],
  [
    '{0}: an object of more than {1} members is not accepted',
    '{0}: không nhận đối tượng có hơn {1} thành viên',
  ],
  ['has more than {0} members', 'có hơn {0} thành viên'],
  ['{0}: a "__proto__" member is not accepted', '{0}: không nhận thành viên "__proto__"'],
  ['is not accepted', 'không được chấp nhận'],
  ['is not percent-encoded', 'chưa được mã hóa phần trăm'],
  ['must be a JSON object', 'phải là một đối tượng JSON'],
  [
    'too many requests; wait as long as Retry-After says, then retry',
    'quá nhiều yêu cầu; hãy đợi theo Retry-After rồi thử lại',
  ],
  [
    'query parameter {0} must be an integer from {1} to {2}',
    'tham số truy vấn {0} phải là số nguyên từ {1} đến {2}',
  ],
  ['query parameter {0} has invalid values: {1}', 'tham số truy vấn {0} có giá trị không hợp lệ: {1}'],
  ['query parameter {0} must be given once', 'tham số truy vấn {0} chỉ được gửi một lần'],
  [
    'query parameter {0} must be given once, up to {1} characters',
    'tham số truy vấn {0} chỉ được gửi một lần, tối đa {1} ký tự',
  ],
  ['query parameter {0} must be one replay id', 'tham số truy vấn {0} phải là một mã lần phát lại'],
  ['query parameter {0} must be one run id', 'tham số truy vấn {0} phải là một mã lần đối soát'],
  ['query parameter {0} must be one of {1}', 'tham số truy vấn {0} phải là một trong {1}'],
  ['invalid: {0}', 'không hợp lệ: {0}'],
  ['must be given once', 'chỉ được gửi một lần'],
  ['must be one replay id', 'phải là một mã lần phát lại'],
  ['must be one run id', 'phải là một mã lần đối soát'],
  ['must be one target name', 'phải là một tên đích'],
  ['must be one value of up to {0} characters', 'phải là một giá trị tối đa {0} ký tự'],
  ['must be a webhook id', 'phải là một mã webhook'],
  ['must be an erasure id', 'phải là một mã yêu cầu xóa'],
  ['must be the next cursor of a previous page', 'phải là con trỏ tiếp theo của một trang trước'],
  ['the form field {0} is missing or too long', 'trường biểu mẫu {0} bị thiếu hoặc quá dài'],

  // Authentication, scope and clients
  ['the token is not valid', 'mã thông báo (token) không hợp lệ'],
  ['the token has expired', 'mã thông báo (token) đã hết hạn'],
  [
    "the token's roles give no role in the hub",
    'các vai trò trong mã thông báo không ứng với vai trò nào trong hub',
  ],
  [
    'this needs the role {0}; client {1} is {2}',
    'thao tác này cần vai trò {0}; ứng dụng khách {1} có vai trò {2}',
  ],
  [
    'a province login needs a known province code in the claim {0}',
    'đăng nhập cấp tỉnh cần một mã tỉnh đã biết trong claim {0}',
  ],
  [
    'a commune login needs known commune codes of one province in the claim {0}',
    'đăng nhập cấp xã cần các mã xã đã biết thuộc một tỉnh trong claim {0}',
  ],
  ["the identity provider's key set cannot be read", 'không đọc được bộ khóa của nhà cung cấp định danh'],
  ['the metrics need their bearer token', 'số liệu đo cần mã thông báo riêng của chúng'],
  ['the metrics are served on a listener of their own', 'số liệu đo được phục vụ trên một cổng nghe riêng'],
  ['this listener serves GET /metrics only', 'cổng nghe này chỉ phục vụ GET /metrics'],
  ['role {0} may not ingest events', 'vai trò {0} không được gửi sự kiện'],
  ["{0} event(s) outside the client's scope", '{0} sự kiện nằm ngoài phạm vi của ứng dụng khách'],
  ["outside the client's scope", 'ngoài phạm vi của ứng dụng khách'],
  ['the dossier is outside the client scope', 'hồ sơ nằm ngoài phạm vi của ứng dụng khách'],
  [
    'client {0} may send only under its sources: {1}',
    'ứng dụng khách {0} chỉ được gửi dưới các nguồn của mình: {1}',
  ],
  ['client {0} may ingest only for province {1}', 'ứng dụng khách {0} chỉ được gửi sự kiện cho tỉnh {1}'],
  ['client {0} may ingest only for communes {1}', 'ứng dụng khách {0} chỉ được gửi sự kiện cho các xã {1}'],
  ['client {0} may not read province {1}', 'ứng dụng khách {0} không được đọc tỉnh {1}'],
  ['client {0} has no province', 'ứng dụng khách {0} không thuộc tỉnh nào'],
  [
    'client {0} is revoked; create a new client',
    'ứng dụng khách {0} đã bị thu hồi; hãy tạo ứng dụng khách mới',
  ],
  ['no client has this name or id', 'không có ứng dụng khách nào có tên hoặc mã này'],
  ['no client is bound to source {0}', 'không có ứng dụng khách nào gắn với nguồn {0}'],
  ['no hub client is bound to this source', 'không có ứng dụng khách nào của hub gắn với nguồn này'],
  ['the client is not valid', 'ứng dụng khách không hợp lệ'],
  ['the change is not valid', 'thay đổi không hợp lệ'],
  ['a client named {0} exists', 'đã có ứng dụng khách tên {0}'],
  ['a commune client needs communes', 'ứng dụng khách cấp xã cần danh sách xã'],
  ['give communes or a province, not both', 'hãy cho danh sách xã hoặc một tỉnh, không cả hai'],
  [
    'the communes of one client must be in one province',
    'các xã của một ứng dụng khách phải thuộc cùng một tỉnh',
  ],
  [
    'role must be one of {0}, or give communes or a province',
    'vai trò phải là một trong {0}, hoặc hãy cho danh sách xã hoặc một tỉnh',
  ],
  ['role {0} takes no communes or province', 'vai trò {0} không nhận danh sách xã hay tỉnh'],
  [
    'only commune and province clients produce events',
    'chỉ ứng dụng khách cấp xã và cấp tỉnh mới gửi sự kiện',
  ],
  [
    'a source is a URI-reference without spaces, optionally ending in *',
    'một nguồn là URI-reference không có khoảng trắng, có thể kết thúc bằng *',
  ],
  ['{0} overlaps a source of client {1}', '{0} trùng với một nguồn của ứng dụng khách {1}'],
  ['name must be 1 to {0} characters', 'tên phải dài từ 1 đến {0} ký tự'],
  ['a rate limit is {ratePerSecond, burst}', 'giới hạn tốc độ có dạng {ratePerSecond, burst}'],
  ['a rate limit has ratePerSecond and burst only', 'giới hạn tốc độ chỉ gồm ratePerSecond và burst'],
  ['requests per second: a number above 0, at most {0}', 'số yêu cầu mỗi giây: một số lớn hơn 0, tối đa {0}'],
  ['an integer from 1 to {0}', 'một số nguyên từ 1 đến {0}'],
  [
    'give rateLimit: {ratePerSecond, burst}, or null for the hub default',
    'hãy cho rateLimit: {ratePerSecond, burst}, hoặc null để dùng mặc định của hub',
  ],
  ['each commune code must be 5 digits', 'mỗi mã xã phải gồm 5 chữ số'],
  ['province must be a 2-digit code', 'tỉnh phải là mã 2 chữ số'],

  // Event validation and ingest
  ['{0} schema violation(s)', '{0} lỗi vi phạm lược đồ'],
  [
    '{0} code(s) the national portal would refuse (ingest code check)',
    '{0} mã mà Cổng Dịch vụ công quốc gia sẽ từ chối (kiểm tra mã khi tiếp nhận)',
  ],
  ["{0} event(s) name another commune than their dossier's", '{0} sự kiện ghi một xã khác với xã của hồ sơ'],
  ['{0} event(s) of a type only the hub emits', '{0} sự kiện thuộc loại chỉ hub mới phát ra'],
  [
    '{0} is emitted by the hub only: clients cannot send it',
    '{0} chỉ do hub phát ra: ứng dụng khách không được gửi',
  ],
  [
    'the dossier belongs to commune {0} of province {1}; its events name them',
    'hồ sơ thuộc xã {0} của tỉnh {1}; các sự kiện của nó phải ghi đúng như vậy',
  ],
  ['the dossier is being written concurrently; retry', 'hồ sơ đang được ghi đồng thời; hãy thử lại'],
  ['stream {0} is at version {1}, expected {2}', 'luồng {0} đang ở phiên bản {1}, yêu cầu mong đợi {2}'],
  [
    'dossier code {0} does not have the form the national portal accepts ({agency ID}-{yyMMdd}-{4 or 5 digits}, e.g. 000.00.15.H12-250701-0001)',
    'mã hồ sơ {0} không đúng dạng Cổng Dịch vụ công quốc gia chấp nhận ({mã cơ quan}-{yyMMdd}-{4 hoặc 5 chữ số}, ví dụ 000.00.15.H12-250701-0001)',
  ],
  [
    'agency code {0} does not have the form the national portal accepts (an agency electronic ID such as 000.00.15.H12)',
    'mã cơ quan {0} không đúng dạng Cổng Dịch vụ công quốc gia chấp nhận (mã định danh điện tử của cơ quan, ví dụ 000.00.15.H12)',
  ],
  ['data.dossierCode must be a non-empty string', 'data.dossierCode phải là chuỗi không rỗng'],
  ['{0} must be an integer >= 0', '{0} phải là số nguyên >= 0'],
  ['must be an integer >= 0', 'phải là số nguyên >= 0'],
  [
    'must be an integer >= 0 (the stream version this append expects)',
    'phải là số nguyên >= 0 (phiên bản luồng mà lần ghi này mong đợi)',
  ],
  ['is required', 'là bắt buộc'],
  ['is required and must be "1.0"', 'là bắt buộc và phải là "1.0"'],
  ['must be "1.0"', 'phải là "1.0"'],
  ['is required: a non-empty string', 'là bắt buộc: một chuỗi không rỗng'],
  ['is required: a non-empty URI-reference', 'là bắt buộc: một URI-reference không rỗng'],
  [
    'must be a URI-reference (no whitespace or control characters)',
    'phải là URI-reference (không có khoảng trắng hay ký tự điều khiển)',
  ],
  [
    'must be an RFC 3339 date-time with an offset, e.g. 2025-07-01T08:30:00+07:00',
    'phải là thời điểm RFC 3339 có múi giờ, ví dụ 2025-07-01T08:30:00+07:00',
  ],
  ['must be a non-empty URI', 'phải là URI không rỗng'],
  [
    'must be application/json or a +json media type (charset utf-8 if any)',
    'phải là application/json hoặc kiểu +json (bảng mã utf-8 nếu có)',
  ],
  ['must be application/json or a +json media type', 'phải là application/json hoặc kiểu +json'],
  [
    'is not accepted: data must be JSON, in the data attribute',
    'không được chấp nhận: dữ liệu phải là JSON, trong thuộc tính data',
  ],
  ['is required: one of {0}', 'là bắt buộc: một trong {0}'],
  ['unknown event type {0}; known types: {1}', 'loại sự kiện {0} không xác định; các loại đã biết: {1}'],
  ['unknown event type {0}', 'loại sự kiện {0} không xác định'],
  // Event versions (libs/contracts/src/upcast.ts, persons of dossier.submitted.v2)
  ['must hold one person with role applicant', 'phải có đúng một người với vai trò applicant (người nộp)'],
  [
    'a dossier has one applicant: use co-applicant',
    'mỗi hồ sơ chỉ có một người nộp: hãy dùng co-applicant (người cùng nộp)',
  ],
  ['event {0} cannot be read as {1}: {2}', 'không đọc được sự kiện {0} dưới dạng {1}: {2}'],
  ['the catalogue has no such version', 'danh mục không có phiên bản này'],
  ['no converter between these versions', 'không có bộ chuyển đổi giữa hai phiên bản này'],
  ['data must be an object', 'data phải là một đối tượng'],
  ['the converter failed', 'bộ chuyển đổi gặp lỗi'],
  ['applicant must be an object', 'applicant phải là một đối tượng'],
  ['persons must be a list', 'persons phải là một danh sách'],
  ['persons holds no applicant', 'persons không có người nộp (applicant)'],
  [
    'the applicant has no citizen ID or legacy ID, which v1 requires',
    'người nộp không có số căn cước hay CMND 9 số, điều mà v1 bắt buộc',
  ],
  ['the event versions are not valid', 'các phiên bản sự kiện không hợp lệ'],
  [
    'must be an object: event name → version, e.g. {"dossier.submitted": 2}',
    'phải là một đối tượng: tên sự kiện → phiên bản, ví dụ {"dossier.submitted": 2}',
  ],
  ['is not an event with several versions ({0})', 'không phải sự kiện có nhiều phiên bản ({0})'],
  ['must be one of the versions {0}', 'phải là một trong các phiên bản {0}'],
  ['is not a province code or *', 'không phải mã tỉnh hay *'],
  ['no event type of that name in the catalogue', 'không có loại sự kiện nào mang tên này trong danh mục'],
  ['is required for {0}', 'là bắt buộc với {0}'],
  [
    'is required with the other: a transfer to another commune names its province and commune',
    'là bắt buộc cùng trường kia: việc chuyển sang xã khác phải ghi cả tỉnh và xã',
  ],
  ['must be at most {0} characters', 'tối đa {0} ký tự'],
  [
    'is not a CloudEvents attribute; extension names are 1-20 lower-case letters or digits',
    'không phải thuộc tính CloudEvents; tên phần mở rộng gồm 1-20 chữ thường hoặc chữ số',
  ],
  [
    'must be a W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, lower case, ids not all zero',
    'phải là W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, chữ thường, các id không toàn số 0',
  ],
  [
    'an extension attribute must be a string, a 32-bit integer or a boolean',
    'thuộc tính mở rộng phải là chuỗi, số nguyên 32 bit hoặc boolean',
  ],
  ['unknown province code {0}', 'mã tỉnh {0} không xác định'],
  ['unknown commune code {0}', 'mã xã {0} không xác định'],
  ['commune {0} belongs to province {1}, not {2}', 'xã {0} thuộc tỉnh {1}, không phải {2}'],
  ['events to append are invalid', 'các sự kiện cần ghi không hợp lệ'],
  ['{0} must be a non-empty string', '{0} phải là chuỗi không rỗng'],
  ['{0} must be a string', '{0} phải là chuỗi'],
  ['{0} must not contain U+0000 (NUL)', '{0} không được chứa U+0000 (NUL)'],
  [
    '{0} must be well-formed Unicode: it holds a lone UTF-16 surrogate',
    '{0} phải là Unicode hợp lệ: nó chứa một nửa cặp thay thế UTF-16 đứng riêng',
  ],
  [
    'the {0} must be well-formed Unicode: it holds a lone UTF-16 surrogate',
    '{0} phải là Unicode hợp lệ: nó chứa một nửa cặp thay thế UTF-16 đứng riêng',
  ],
  ['a string', 'một chuỗi'],
  ['string', 'chuỗi'],
  ['property name', 'tên thuộc tính'],
  [
    'expected version must be "{0}" or a non-negative integer',
    'phiên bản mong đợi phải là "{0}" hoặc số nguyên không âm',
  ],
  ['data must be serialisable as JSON: {0}', 'data phải tuần tự hóa được thành JSON: {0}'],
  ['extensions must be serialisable as JSON: {0}', 'các phần mở rộng phải tuần tự hóa được thành JSON: {0}'],
  [
    'stream names starting with "$" or "{0}" are reserved',
    'tên luồng bắt đầu bằng "$" hoặc "{0}" được dành riêng',
  ],

  // Reads
  [
    'the stream does not exist or is outside your scope',
    'luồng không tồn tại hoặc nằm ngoài phạm vi của bạn',
  ],
  [
    'the dossier is not known or is outside your scope',
    'hồ sơ không xác định hoặc nằm ngoài phạm vi của bạn',
  ],
  ['event type {0} does not belong to the dossier view', 'loại sự kiện {0} không thuộc khung nhìn hồ sơ'],

  // Event store, storage and Kafka
  [
    'checkpoint position must be a non-negative integer, got {0}',
    'vị trí điểm kiểm tra (checkpoint) phải là số nguyên không âm, nhận được {0}',
  ],
  ['the event store does not answer', 'kho sự kiện không phản hồi'],
  ['the hub is starting or shutting down', 'hub đang khởi động hoặc đang tắt'],
  ['the event store is closed', 'kho sự kiện đã đóng'],
  ['the event store could not append', 'kho sự kiện không ghi được'],
  [
    'the event store could not commit; nothing was appended',
    'kho sự kiện không xác nhận (commit) được; không có gì được ghi',
  ],
  [
    'the event store could not commit; retry the append',
    'kho sự kiện không xác nhận (commit) được; hãy ghi lại',
  ],
  ['the event store cannot start a write transaction', 'kho sự kiện không bắt đầu được giao dịch ghi'],
  [
    'the event store at {0} is open read-only: it cannot {1}',
    'kho sự kiện tại {0} đang mở ở chế độ chỉ đọc: không thể {1}',
  ],
  ['append', 'ghi'],
  ['save a checkpoint', 'lưu điểm kiểm tra (checkpoint)'],
  ['cannot open the event store at {0}', 'không mở được kho sự kiện tại {0}'],
  ['cannot open the event store at {0} read-only', 'không mở được kho sự kiện tại {0} ở chế độ chỉ đọc'],
  ['cannot open the SQLite database at {0}', 'không mở được cơ sở dữ liệu SQLite tại {0}'],
  [
    'cannot open the event store on PostgreSQL (schema {0})',
    'không mở được kho sự kiện trên PostgreSQL (schema {0})',
  ],
  ['cannot open {0} on PostgreSQL (schema {1}): {2}', 'không mở được {0} trên PostgreSQL (schema {1}): {2}'],
  ['cannot read the event store at {0}: {1}', 'không đọc được kho sự kiện tại {0}: {1}'],
  ['no event store at {0}: the file does not exist', 'không có kho sự kiện tại {0}: tệp không tồn tại'],
  ['{0} holds no event store (no events table)', '{0} không chứa kho sự kiện (không có bảng events)'],
  [
    'the event store at {0} has schema version {1}; this build reads up to {2}',
    'kho sự kiện tại {0} có phiên bản schema {1}; bản dựng này chỉ đọc đến {2}',
  ],
  [
    'the event store at {0} has schema version {1}, this build reads version {2}; open it writable once (start the hub) to create or migrate it',
    'kho sự kiện tại {0} có phiên bản schema {1}, bản dựng này đọc phiên bản {2}; hãy mở nó ở chế độ ghi một lần (khởi động hub) để tạo hoặc nâng cấp',
  ],
  [
    'the database schema of {0} is at version {1}; this build knows up to {2}',
    'schema cơ sở dữ liệu của {0} đang ở phiên bản {1}; bản dựng này chỉ biết đến {2}',
  ],
  [
    'the database schema {0} of {1} is at version {2}; this build knows up to {3}',
    'schema cơ sở dữ liệu {0} của {1} đang ở phiên bản {2}; bản dựng này chỉ biết đến {3}',
  ],
  // The hub's words before a driver's own message (`<what>: <driver message>`, see messageVi).
  ['cannot connect to PostgreSQL', 'không kết nối được PostgreSQL'],
  ['cannot read PostgreSQL {0}, schema {1}', 'không đọc được PostgreSQL {0}, schema {1}'],
  ['cannot open the KurrentDB event store', 'không mở được kho sự kiện KurrentDB'],
  ['cannot list the checkpoints', 'không liệt kê được các điểm kiểm tra (checkpoint)'],
  ['cannot load the checkpoint of {0}', 'không tải được điểm kiểm tra của {0}'],
  ['cannot save the checkpoint of {0}', 'không lưu được điểm kiểm tra của {0}'],
  ['cannot look up stored events', 'không tra cứu được các sự kiện đã lưu'],
  ['cannot read the global log', 'không đọc được nhật ký toàn cục'],
  ['cannot read the head of the global log', 'không đọc được đầu nhật ký toàn cục'],
  ['cannot read the version of {0}', 'không đọc được phiên bản của {0}'],
  ['cannot read {0}', 'không đọc được {0}'],
  ['the checkpoint store is unavailable', 'kho điểm kiểm tra không khả dụng'],
  ['the subscriber leases are unavailable', 'các hợp đồng thuê (lease) của bên đăng ký không khả dụng'],
  ['the event store cannot read', 'kho sự kiện không đọc được'],
  ['the event store could not prepare the append', 'kho sự kiện không chuẩn bị được lần ghi'],
  [
    'the event store could not append; nothing or everything of the batch was stored',
    'kho sự kiện không ghi được; lô được lưu toàn bộ hoặc không lưu gì',
  ],
  ['PostgreSQL cannot answer: {0}', 'PostgreSQL không trả lời được: {0}'],
  ['PostgreSQL {0}, schema {1} holds no event store', 'PostgreSQL {0}, schema {1} không chứa kho sự kiện'],
  [
    'PostgreSQL {0}, schema {1} has event-store schema version {2}; this build reads up to {3}',
    'PostgreSQL {0}, schema {1} có phiên bản schema kho sự kiện {2}; bản dựng này chỉ đọc đến {3}',
  ],
  ['invalid KurrentDB connection string: {0}', 'chuỗi kết nối KurrentDB không hợp lệ: {0}'],
  ['a KurrentDB event has no hub metadata', 'một sự kiện KurrentDB không có siêu dữ liệu của hub'],
  ['a KurrentDB index record is malformed', 'một bản ghi chỉ mục KurrentDB bị sai dạng'],
  ['KurrentDB event at revision {0} claims position {1}', 'sự kiện KurrentDB ở bản {0} khai vị trí {1}'],
  ['KurrentDB event at revision {0} claims version {1}', 'sự kiện KurrentDB ở bản {0} khai phiên bản {1}'],
  [
    'KurrentDB event at revision {0} has no {1} metadata',
    'sự kiện KurrentDB ở bản {0} không có siêu dữ liệu {1}',
  ],
  [
    'the checkpoint stream of {0} holds a malformed event',
    'luồng điểm kiểm tra của {0} chứa một sự kiện sai dạng',
  ],
  [
    'the append lost the KurrentDB sequence stream to other writers {0} times; retry later',
    'lần ghi đã {0} lần mất luồng thứ tự KurrentDB vào tay bên ghi khác; hãy thử lại sau',
  ],
  [
    '{0}: KurrentDB refused the size of the append ({1})',
    '{0}: KurrentDB từ chối kích thước của lần ghi ({1})',
  ],
  [
    '{0}: the KurrentDB server does not support multi-stream append; KurrentDB 25.1 or later is required',
    '{0}: máy chủ KurrentDB không hỗ trợ ghi nhiều luồng; cần KurrentDB 25.1 trở lên',
  ],
  [
    "Kafka did not acknowledge the records: {0} record(s) of {1} had no answer from their partition's leader after {2} sends",
    'Kafka không xác nhận các bản ghi: {0} bản ghi của {1} không nhận được trả lời từ leader của phân vùng sau {2} lần gửi',
  ],
  ['Kafka did not acknowledge the records: {0}', 'Kafka không xác nhận các bản ghi: {0}'],
  ['Kafka did not acknowledge the records', 'Kafka không xác nhận các bản ghi'],
  ['connecting to Kafka', 'kết nối tới Kafka'],
  ['Kafka refused the connection ({0}): {1}', 'Kafka từ chối kết nối ({0}): {1}'],
  ['authentication', 'xác thực'],
  ['certificate', 'chứng chỉ'],
  [
    'SASL authentication failed (wrong user name or password?)',
    'xác thực SASL thất bại (sai tên người dùng hoặc mật khẩu?)',
  ],
  [
    "the broker's TLS certificate is not trusted ({0}; is kafka.tls.caFile its CA?)",
    'chứng chỉ TLS của broker không được tin cậy ({0}; kafka.tls.caFile có đúng là CA của nó không?)',
  ],
  ['the broker refused the client certificate ({0})', 'broker từ chối chứng chỉ của máy khách ({0})'],
  ['Kafka could not create topics {0}: {1}', 'Kafka không tạo được các topic {0}: {1}'],
  [
    'event at position {0} (stream {1}, id {2}, source {3}) cannot be relayed to Kafka: {4}',
    'sự kiện ở vị trí {0} (luồng {1}, id {2}, nguồn {3}) không chuyển tiếp được sang Kafka: {4}',
  ],
  ['it has no province code, so it has no province topic', 'nó không có mã tỉnh nên không có topic của tỉnh'],
  [
    'it names no dossier (no data.dossierCode, stream is not dossier-*)',
    'nó không ghi hồ sơ nào (không có data.dossierCode, luồng không phải dossier-*)',
  ],
  ['is required to choose the Kafka key', 'là bắt buộc để chọn khóa Kafka'],
  ['is required to choose the province topic', 'là bắt buộc để chọn topic của tỉnh'],
  ['province code {0} is not two digits', 'mã tỉnh {0} không gồm hai chữ số'],
  ['must be a two-digit province code', 'phải là mã tỉnh gồm hai chữ số'],
  [
    'consumer name {0} cannot name a Kafka replay topic: it must be non-empty, hold only ASCII letters, digits, ".", "_" and "-", and keep {1} + name within 249 characters',
    'tên consumer {0} không đặt được tên topic phát lại Kafka: tên phải không rỗng, chỉ gồm chữ cái ASCII, chữ số, ".", "_" và "-", và {1} + tên không quá 249 ký tự',
  ],
  [
    'the consumer name is not a legal Kafka topic segment',
    'tên consumer không phải một đoạn tên topic Kafka hợp lệ',
  ],
  [
    'the message is not a CloudEvent: send content-type application/cloudevents+json (structured mode) or ce_specversion, ce_id, ce_source and ce_type headers with JSON data (binary mode)',
    'bản tin không phải CloudEvent: hãy gửi content-type application/cloudevents+json (chế độ có cấu trúc) hoặc các tiêu đề ce_specversion, ce_id, ce_source và ce_type với dữ liệu JSON (chế độ nhị phân)',
  ],
  ['a {0} message needs a value: the event as JSON', 'bản tin {0} cần có giá trị: sự kiện dưới dạng JSON'],
  [
    'a {0} message value must be one JSON object (the event)',
    'giá trị bản tin {0} phải là một đối tượng JSON (sự kiện)',
  ],
  ['content-type {0} is not accepted: JSON is UTF-8', 'content-type {0} không được chấp nhận: JSON là UTF-8'],
  [
    'content-type {0} is not accepted: the event data must be JSON in UTF-8',
    'content-type {0} không được chấp nhận: dữ liệu sự kiện phải là JSON theo UTF-8',
  ],
  [
    '{0} is not accepted on Kafka: produce one event per message',
    '{0} không được chấp nhận trên Kafka: mỗi bản tin chỉ chứa một sự kiện',
  ],

  // Subscriptions, parking and connectors
  ['dossier {0} is not parked for {1}', 'hồ sơ {0} không bị tạm giữ cho {1}'],
  ['dossier {0} has never been parked for {1}', 'hồ sơ {0} chưa từng bị tạm giữ cho {1}'],
  [
    'cannot skip through position {0}: the first held event is at {1}',
    'không thể bỏ qua đến vị trí {0}: sự kiện bị giữ đầu tiên ở {1}',
  ],
  ['must be at least {0}', 'phải ít nhất là {0}'],
  ['no connector runs for target {0}', 'không có bộ kết nối nào chạy cho đích {0}'],
  ['the payment connector is not enabled', 'bộ kết nối thanh toán chưa được bật'],
  ['no dossier for the payment reference {0}', 'không có hồ sơ nào ứng với mã tham chiếu thanh toán {0}'],
  ['no such dossier', 'không có hồ sơ này'],
  [
    'MaXacThuc does not verify: the callback is not signed with the shared secret',
    'MaXacThuc không khớp: lời gọi lại không được ký bằng khóa bí mật dùng chung',
  ],
  ['does not verify', 'không khớp'],
  ['expected 00 (paid) or 24 (failed)', 'cần 00 (đã thanh toán) hoặc 24 (thất bại)'],
  [
    'not a reference of the hub (<escaped dossier>ZT<n>)',
    'không phải mã tham chiếu của hub (<mã hồ sơ đã thoát>ZT<n>)',
  ],
  ['expected a JSON object', 'cần một đối tượng JSON'],
  ['expected a non-empty string', 'cần một chuỗi không rỗng'],
  ['expected a string', 'cần một chuỗi'],
  ['expected a whole amount in VND', 'cần một số tiền nguyên theo VND'],
  ['expected a time as yyyyMMddHHmmss', 'cần thời gian dạng yyyyMMddHHmmss'],

  // Webhooks
  ['webhooks are not enabled on this hub', 'webhook chưa được bật trên hub này'],
  ['commune clients cannot use webhooks', 'ứng dụng khách cấp xã không dùng được webhook'],
  ['no webhook {0}', 'không có webhook {0}'],
  [
    'client {0} may subscribe only to events of province {1}',
    'ứng dụng khách {0} chỉ được đăng ký sự kiện của tỉnh {1}',
  ],
  ['outside province {0}', 'ngoài tỉnh {0}'],
  ['unknown province {0}', 'tỉnh {0} không xác định'],
  ['unknown commune {0}', 'xã {0} không xác định'],
  ['the webhook filter is not valid', 'bộ lọc webhook không hợp lệ'],
  [
    'is not a filter member (types, provinces, communes)',
    'không phải thành phần của bộ lọc (types, provinces, communes)',
  ],
  ['must be a list of at most {0} non-empty strings', 'phải là danh sách tối đa {0} chuỗi không rỗng'],
  [
    'fromPosition must be a log position (1 or more)',
    'fromPosition phải là một vị trí trong nhật ký (từ 1 trở lên)',
  ],
  ['must be an integer of at least 1', 'phải là số nguyên từ 1 trở lên'],
  ["position {0} is beyond the log's head ({1})", 'vị trí {0} vượt quá đầu nhật ký ({1})'],
  ['must be at most {0}', 'tối đa là {0}'],
  ['ratePerSecond must be above 0 and at most {0}', 'ratePerSecond phải lớn hơn 0 và tối đa {0}'],
  ['must be above 0 and at most {0}', 'phải lớn hơn 0 và tối đa {0}'],
  ['the webhook URL is not an absolute URL', 'URL webhook không phải URL tuyệt đối'],
  ['the webhook URL is {0} characters long; the limit is {1}', 'URL webhook dài {0} ký tự; giới hạn là {1}'],
  ['the scheme {0} is not allowed; webhooks use https', 'không cho phép giao thức {0}; webhook dùng https'],
  [
    '{0}: a webhook URL must not carry credentials; the hub signs its deliveries instead',
    '{0}: URL webhook không được chứa thông tin đăng nhập; hub ký các lần gửi thay cho việc đó',
  ],
  ['{0}: a webhook URL must not have a fragment', '{0}: URL webhook không được có phân đoạn (#)'],
  [
    '{0}: webhooks use https, not http (set webhooks.allowInsecureTargets to allow it)',
    '{0}: webhook dùng https, không dùng http (đặt webhooks.allowInsecureTargets để cho phép)',
  ],
  ['{0}: {1} does not resolve', '{0}: không phân giải được {1}'],
  ['{0}: {1} could not be resolved now', '{0}: hiện không phân giải được {1}'],
  [
    '{0} is {1}; webhooks go to public addresses (set webhooks.allowInsecureTargets to allow it)',
    '{0} là {1}; webhook chỉ gửi đến địa chỉ công cộng (đặt webhooks.allowInsecureTargets để cho phép)',
  ],
  [
    '{0} resolves to {1}, {2}; webhooks go to public addresses (set webhooks.allowInsecureTargets to allow it)',
    '{0} phân giải thành {1}, {2}; webhook chỉ gửi đến địa chỉ công cộng (đặt webhooks.allowInsecureTargets để cho phép)',
  ],
  [
    '{0}: {1} is a local name; webhooks go to public addresses (set webhooks.allowInsecureTargets to allow it)',
    '{0}: {1} là tên cục bộ; webhook chỉ gửi đến địa chỉ công cộng (đặt webhooks.allowInsecureTargets để cho phép)',
  ],

  // Reconciliation
  ['reconciliation is not enabled', 'chức năng đối soát chưa được bật'],
  ['unknown reconciliation target {0}', 'đích đối soát {0} không xác định'],
  ['must be one of {0}', 'phải là một trong {0}'],
  ['the {0} connector is not enabled in this hub', 'bộ kết nối {0} chưa được bật trên hub này'],
  ['no reconciliation run {0}', 'không có lần đối soát {0}'],
  [
    'reconciliation run {0} is still running: wait for its end',
    'lần đối soát {0} vẫn đang chạy: hãy đợi nó kết thúc',
  ],
  ['no finding {0} in reconciliation run {1}', 'không có phát hiện {0} trong lần đối soát {1}'],
  [
    'finding {0} is {1}: only unexpected-extra findings are captured or acknowledged; a replay fixes the others',
    'phát hiện {0} thuộc loại {1}: chỉ phát hiện loại unexpected-extra mới được thu nhận hoặc ghi nhận; phát lại sẽ sửa các loại khác',
  ],
  ['finding {0} was {1} already by {2}', 'phát hiện {0} đã được {2} {1} trước đó'],
  ['captured', 'thu nhận'],
  ['acknowledged', 'ghi nhận'],
  ['finding {0} was resolved meanwhile', 'phát hiện {0} đã được xử lý trong lúc này'],
  [
    'an acknowledgement needs a note: why the record may stay',
    'việc ghi nhận cần một ghi chú: vì sao bản ghi được giữ lại',
  ],
  [
    '{0} cannot tell its records as events: acknowledge the extra with a note instead',
    '{0} không thể chuyển bản ghi của mình thành sự kiện: hãy ghi nhận bản ghi thừa kèm ghi chú',
  ],
  ['{0} no longer holds {1}: nothing to capture', '{0} không còn giữ {1}: không có gì để thu nhận'],
  ['the scope must be an object', 'phạm vi phải là một đối tượng'],
  ['must be an object', 'phải là một đối tượng'],
  ['is not a scope criterion', 'không phải tiêu chí phạm vi'],
  ['the reconciliation scope is not valid', 'phạm vi đối soát không hợp lệ'],
  ['must be a 2-digit province code', 'phải là mã tỉnh 2 chữ số'],
  ['must be a 5-digit commune code', 'phải là mã xã 5 chữ số'],
  ['must be a dossier code', 'phải là một mã hồ sơ'],
  ['must be an array of dossier codes', 'phải là một mảng mã hồ sơ'],
  ['must list at most {0} dossiers', 'chỉ được liệt kê tối đa {0} hồ sơ'],
  ['must be an RFC 3339 date-time with an offset', 'phải là thời điểm RFC 3339 có múi giờ'],
  [
    'this portal reconciler cannot look dossiers up: acknowledge instead',
    'bộ đối soát Cổng này không tra cứu được hồ sơ: hãy ghi nhận thay vào đó',
  ],
  [
    'this one-stop-shop reconciler cannot look dossiers up: acknowledge instead',
    'bộ đối soát một cửa này không tra cứu được hồ sơ: hãy ghi nhận thay vào đó',
  ],
  [
    'this civil-registry reconciler cannot place records: acknowledge instead',
    'bộ đối soát hộ tịch này không định vị được bản ghi: hãy ghi nhận thay vào đó',
  ],
  [
    "the portal's record of {0} cannot be told as an event ({1}): {2}",
    'bản ghi của Cổng về {0} không chuyển được thành sự kiện ({1}): {2}',
  ],
  [
    "the one-stop-shop's record of {0} cannot be told as events: {1}",
    'bản ghi của hệ thống một cửa về {0} không chuyển được thành sự kiện: {1}',
  ],
  [
    "the civil registry's record of {0} cannot be told as events: {1}",
    'bản ghi của hệ thống hộ tịch về {0} không chuyển được thành sự kiện: {1}',
  ],
  ['data.nksGioiTinh is not 1 or 2', 'data.nksGioiTinh không phải 1 hoặc 2'],
  ['data.nksHoTen is missing', 'thiếu data.nksHoTen'],
  [
    'data.nksNgaySinh is missing or not a dd.MM.yyyy date',
    'data.nksNgaySinh bị thiếu hoặc không phải ngày dạng dd.MM.yyyy',
  ],
  [
    'maDonVi is not a commune of the administrative-unit list',
    'maDonVi không phải một xã trong danh mục đơn vị hành chính',
  ],
  [
    "the civil registry's record of {0} is module {1}: only birth registrations ({2}) are told as events; acknowledge instead",
    'bản ghi của hệ thống hộ tịch về {0} thuộc phân hệ {1}: chỉ đăng ký khai sinh ({2}) mới chuyển thành sự kiện; hãy ghi nhận thay vào đó',
  ],
  [
    "the civil registry's record of {0} is at status {1}, not 4 (done): no registration happened there yet; acknowledge it, or capture it from a later run",
    'bản ghi của hệ thống hộ tịch về {0} đang ở trạng thái {1}, chưa phải 4 (hoàn thành): ở đó chưa có đăng ký nào; hãy ghi nhận, hoặc thu nhận nó từ một lần đối soát sau',
  ],

  ['interrupted by a restart', 'bị gián đoạn do khởi động lại'],
  ['interrupted: the hub is stopping', 'bị gián đoạn: hub đang dừng'],

  // Replay
  ['replays are not enabled in this hub', 'chức năng phát lại chưa được bật trên hub này'],
  ['no replay {0}', 'không có lần phát lại {0}'],
  ['no replay target {0} runs in this hub', 'không có đích phát lại {0} nào chạy trên hub này'],
  ['replay {0} is {1}: it cannot {2}', 'lần phát lại {0} đang ở trạng thái {1}: không thể {2}'],
  // The states and commands of a replay, and of an erasure request, quoted in the messages above.
  ['running', 'đang chạy'],
  ['paused', 'tạm dừng'],
  ['completed', 'hoàn tất'],
  ['cancelled', 'đã hủy'],
  ['failed', 'thất bại'],
  ['pause', 'tạm dừng'],
  ['resume', 'tiếp tục'],
  ['cancel', 'hủy'],
  ['complete', 'hoàn tất'],
  ['fail', 'đánh dấu thất bại'],
  ['requested', 'đã yêu cầu'],
  ['erased', 'đã xóa'],
  ['refused', 'đã từ chối'],
  ['the replay scope must be an object', 'phạm vi phát lại phải là một đối tượng'],
  ['the replay scope is not valid', 'phạm vi phát lại không hợp lệ'],
  ['must be a list of 1 to {0} dossier codes', 'phải là danh sách từ 1 đến {0} mã hồ sơ'],
  ['must be a list of event types', 'phải là danh sách loại sự kiện'],
  ['is not an event type of the catalogue', 'không phải loại sự kiện trong danh mục'],
  ['must be a reconciliation run id', 'phải là mã một lần đối soát'],
  ['must be an RFC 3339 time with its offset', 'phải là thời điểm RFC 3339 kèm múi giờ'],
  ['chunkSize must be an integer from 1 to {0}', 'chunkSize phải là số nguyên từ 1 đến {0}'],
  ['must be an integer from 1 to {0}', 'phải là số nguyên từ 1 đến {0}'],
  ['must be an integer from {0} to {1}', 'phải là số nguyên từ {0} đến {1}'],
  ['ratePerSecond must be above 0', 'ratePerSecond phải lớn hơn 0'],
  ['must be above 0', 'phải lớn hơn 0'],
  [
    'the replay would send {0} dossiers to {1}, more than {2}: send confirm: true to run it',
    'lần phát lại sẽ gửi {0} hồ sơ tới {1}, nhiều hơn {2}: hãy gửi confirm: true để chạy',
  ],
  [
    'the replay would send {0} events to {1}, more than {2}: send confirm: true to run it',
    'lần phát lại sẽ gửi {0} sự kiện tới {1}, nhiều hơn {2}: hãy gửi confirm: true để chạy',
  ],
  [
    'target is required unless scope.reconciliationRun names a run',
    'target là bắt buộc trừ khi scope.reconciliationRun chỉ định một lần đối soát',
  ],
  ['is required without scope.reconciliationRun', 'là bắt buộc khi không có scope.reconciliationRun'],
  ['reconciliation runs are not available in this hub', 'hub này không có các lần đối soát'],
  ['no reconciliation runs here', 'ở đây không có lần đối soát nào'],
  [
    "reconciliation run {0} covers {1}, not the replay's target {2}",
    'lần đối soát {0} dành cho {1}, không phải đích phát lại {2}',
  ],
  ['covers {0}, not {1}', 'dành cho {0}, không phải {1}'],

  // Audit, checkpoints, privacy
  ['this hub keeps no audit log', 'hub này không lưu nhật ký kiểm toán'],
  ['this hub keeps no chained audit log', 'hub này không lưu nhật ký kiểm toán dạng chuỗi băm'],
  ['this hub signs no checkpoints', 'hub này không ký điểm kiểm tra (checkpoint)'],
  ['an audit entry needs a non-empty {0}', 'một mục nhật ký kiểm toán cần {0} không rỗng'],
  [
    "an audit entry's {0} must be a JSON object",
    '{0} của một mục nhật ký kiểm toán phải là một đối tượng JSON',
  ],
  ['the audit list limit must be a positive integer', 'giới hạn danh sách kiểm toán phải là số nguyên dương'],
  [
    'the audit list cursor must be a non-negative integer',
    'con trỏ danh sách kiểm toán phải là số nguyên không âm',
  ],
  ['must be a positive integer', 'phải là số nguyên dương'],
  ['must be a non-negative integer', 'phải là số nguyên không âm'],
  ['must be a non-empty string', 'phải là chuỗi không rỗng'],
  ['must be 1 to {0} characters', 'phải dài từ 1 đến {0} ký tự'],
  [
    'personal data is not sealed (privacy.enabled is false): erasure is not possible',
    'dữ liệu cá nhân không được niêm phong (privacy.enabled là false): không thể xóa',
  ],
  [
    'personal data is not sealed on this hub (privacy.enabled is false)',
    'dữ liệu cá nhân không được niêm phong trên hub này (privacy.enabled là false)',
  ],
  ['no erasure request {0}', 'không có yêu cầu xóa {0}'],
  [
    'erasure request {0} is {1} already: it cannot be approved',
    'yêu cầu xóa {0} đã ở trạng thái {1}: không thể phê duyệt',
  ],
  [
    'erasure request {0} is {1} already: it cannot be refused',
    'yêu cầu xóa {0} đã ở trạng thái {1}: không thể từ chối',
  ],
  [
    'the subject has a dossier of procedure {0}, kept by law ({1}): the request cannot be approved; refuse it citing that basis',
    'chủ thể có hồ sơ của thủ tục {0}, được lưu giữ theo luật ({1}): không thể phê duyệt yêu cầu; hãy từ chối và dẫn căn cứ đó',
  ],
  ['procedure {0}: {1}', 'thủ tục {0}: {1}'],
  [
    'is required: the legal basis of the refusal, 1 to {0} characters',
    'là bắt buộc: căn cứ pháp lý của việc từ chối, từ 1 đến {0} ký tự',
  ],
  [
    'must be a citizen ID (12 or 9 digits) or dossier:<dossierCode>:<role> (role {0})',
    'phải là số định danh công dân (12 hoặc 9 chữ số) hoặc dossier:<dossierCode>:<role> (vai trò {0})',
  ],
  ['the query of who was affected is not valid', 'truy vấn về những người bị ảnh hưởng không hợp lệ'],
  ['the window of the query is not valid', 'khoảng thời gian của truy vấn không hợp lệ'],
  ['is required: an RFC 3339 date-time', 'là bắt buộc: một thời điểm RFC 3339'],
  [
    'must be an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z',
    'phải là thời điểm RFC 3339, ví dụ 2026-03-01T00:00:00Z',
  ],
  ['must be after from', 'phải sau from'],
  ['must be at most {0} days after from', 'tối đa {0} ngày sau from'],
  ['is not a parameter ({0})', 'không phải một tham số ({0})'],
  [
    'must be up to {0} 2-digit province codes, comma-separated',
    'tối đa {0} mã tỉnh 2 chữ số, phân cách bằng dấu phẩy',
  ],
  [
    'must be up to {0} 5-digit commune codes, comma-separated',
    'tối đa {0} mã xã 5 chữ số, phân cách bằng dấu phẩy',
  ],
  ['must be a target name of 1 to {0} characters', 'phải là tên đích dài từ 1 đến {0} ký tự'],
  [
    'target {0} names no connector, webhook or Kafka consumer of this hub',
    'đích {0} không phải bộ kết nối, webhook hay consumer Kafka nào của hub này',
  ],
  [
    'must be a running connector (portal, one-stop-shop, civil-registry, payments), webhook:<id>, kafka or kafka:<client>',
    'phải là một bộ kết nối đang chạy (portal, one-stop-shop, civil-registry, payments), webhook:<id>, kafka hoặc kafka:<client>',
  ],

  // Framework messages (Fastify, NestJS) that reach a problem's detail
  ['Route {0}:{1} not found', 'không có tuyến {0}:{1}'],
  ['Cannot {0} {1}', 'không có tuyến {0} {1}'],
  [
    "Body cannot be empty when content-type is set to 'application/json'",
    "thân yêu cầu không được rỗng khi content-type là 'application/json'",
  ],
  ['Unsupported Media Type: {0}', 'kiểu nội dung không được hỗ trợ: {0}'],
  ['Unsupported Media Type', 'kiểu nội dung không được hỗ trợ'],
  ['Request body is too large', 'thân yêu cầu quá lớn'],
  ['Request body size did not match Content-Length', 'kích thước thân yêu cầu không khớp Content-Length'],
  ["'{0}' is not a valid url component", "'{0}' không phải thành phần URL hợp lệ"],
  ['request rejected', 'yêu cầu bị từ chối'],
  [
    'the hub failed to process the request; it has been logged',
    'hub không xử lý được yêu cầu; lỗi đã được ghi lại',
  ],
  ['unavailable', 'không khả dụng'],

  // V8's JSON.parse messages, quoted after `… is not valid JSON:`
  ['Unexpected end of JSON input', 'JSON kết thúc đột ngột'],
  ['{0} in JSON at position {1} (line {2} column {3})', '{0} trong JSON tại vị trí {1} (dòng {2}, cột {3})'],
  ['{0} in JSON at position {1}', '{0} trong JSON tại vị trí {1}'],
  ['Unexpected token {0}, {1} is not valid JSON', 'ký tự không mong đợi {0}, {1} không phải JSON hợp lệ'],
  [
    'Unexpected non-whitespace character after JSON at position {0}',
    'có ký tự không phải khoảng trắng sau JSON tại vị trí {0}',
  ],
  [
    'Unexpected non-whitespace character after JSON at position {0} (line {1} column {2})',
    'có ký tự không phải khoảng trắng sau JSON tại vị trí {0} (dòng {1}, cột {2})',
  ],
  ["Expected property name or '}'", "cần tên thuộc tính hoặc '}'"],
  ['Expected double-quoted property name', 'cần tên thuộc tính trong dấu ngoặc kép'],
  ["Expected ':' after property name", "cần ':' sau tên thuộc tính"],
  ["Expected ',' or '}' after property value", "cần ',' hoặc '}' sau giá trị thuộc tính"],
  ["Expected ',' or ']' after array element", "cần ',' hoặc ']' sau phần tử mảng"],
  ['Unterminated string', 'chuỗi chưa được đóng'],
  ['Bad escaped character', 'ký tự thoát không hợp lệ'],
  ['Bad control character in string literal', 'ký tự điều khiển không hợp lệ trong chuỗi'],
  ['No number after minus sign', 'không có số sau dấu trừ'],
  ['Exponent part is missing a number', 'phần số mũ thiếu chữ số'],
  ['Unterminated fractional number', 'phần thập phân chưa hoàn chỉnh'],

  // ajv (JSON Schema) messages: `ajv-i18n` is not installed, so the hub translates the ones it returns
  ['must be string', 'phải là chuỗi'],
  ['must be number', 'phải là số'],
  ['must be integer', 'phải là số nguyên'],
  ['must be boolean', 'phải là boolean'],
  ['must be object', 'phải là đối tượng'],
  ['must be array', 'phải là mảng'],
  ['must be null', 'phải là null'],
  ['is not a known property', 'không phải thuộc tính đã biết'],
  ['must have required property {0}', 'thiếu thuộc tính bắt buộc {0}'],
  ['must NOT have additional properties', 'không được có thuộc tính ngoài lược đồ'],
  ['must be equal to one of the allowed values', 'phải bằng một trong các giá trị cho phép'],
  ['must be equal to constant', 'phải bằng giá trị hằng quy định'],
  ['must match pattern "{0}"', 'phải khớp mẫu "{0}"'],
  ['must match pattern "{0}" ({1})', 'phải khớp mẫu "{0}" ({1})'],
  ['must match format "{0}"', 'phải đúng định dạng "{0}"'],
  ['must match format "{0}" ({1})', 'phải đúng định dạng "{0}" ({1})'],
  ['must NOT have more than {0} characters', 'không được dài quá {0} ký tự'],
  ['must NOT have fewer than {0} characters', 'không được ngắn hơn {0} ký tự'],
  ['must NOT have more than {0} items', 'không được có quá {0} phần tử'],
  ['must NOT have fewer than {0} items', 'không được có ít hơn {0} phần tử'],
  ['must NOT have more than {0} properties', 'không được có quá {0} thuộc tính'],
  ['must NOT have fewer than {0} properties', 'không được có ít hơn {0} thuộc tính'],
  [
    'must NOT have duplicate items (items ## {0} and {1} are identical)',
    'không được có phần tử trùng (phần tử số {0} và {1} giống nhau)',
  ],
  ['must be <= {0}', 'phải <= {0}'],
  ['must be >= {0}', 'phải >= {0}'],
  ['must be < {0}', 'phải < {0}'],
  ['must be > {0}', 'phải > {0}'],
  ['must be multiple of {0}', 'phải là bội số của {0}'],
  ['must match exactly one schema in oneOf', 'phải khớp đúng một lược đồ trong oneOf'],
  ['must match a schema in anyOf', 'phải khớp một lược đồ trong anyOf'],
  ['must match "then" schema', 'phải khớp lược đồ "then"'],
  ['must match "else" schema', 'phải khớp lược đồ "else"'],
  ['is not accepted here', 'không được chấp nhận ở đây'],
  ['must NOT be valid', 'không được khớp lược đồ'],
  ['must contain at least {0} valid item(s)', 'phải chứa ít nhất {0} phần tử hợp lệ'],
  ['must NOT have unevaluated properties', 'không được có thuộc tính chưa được đánh giá'],
  ['fails {0}', 'không đạt {0}'],

  // class-validator messages (the operator API's DTOs)
  ['property {0} should not exist', 'thuộc tính {0} không được phép có'],
  ['{0} should not be null or undefined', '{0} không được là null hoặc undefined'],
  ['{0} must be an integer number', '{0} phải là số nguyên'],
  [
    '{0} must be a number conforming to the specified constraints',
    '{0} phải là số đúng các ràng buộc quy định',
  ],
  ['{0} must be a boolean value', '{0} phải là giá trị boolean'],
  ['{0} must be an array', '{0} phải là mảng'],
  ['{0} must be an object', '{0} phải là đối tượng'],
  ['{0} must be one of the following values: {1}', '{0} phải là một trong các giá trị: {1}'],
  ['{0} must not be greater than {1}', '{0} không được lớn hơn {1}'],
  ['{0} must not be less than {1}', '{0} không được nhỏ hơn {1}'],
  ['{0} must be longer than or equal to {1} characters', '{0} phải dài ít nhất {1} ký tự'],
  ['{0} must be shorter than or equal to {1} characters', '{0} phải dài tối đa {1} ký tự'],
  [
    '{0} must be longer than or equal to {1} and shorter than or equal to {2} characters',
    '{0} phải dài từ {1} đến {2} ký tự',
  ],
  ['{0} must match {1} regular expression', '{0} phải khớp biểu thức chính quy {1}'],
  ['{0} must contain no more than {1} elements', '{0} không được chứa quá {1} phần tử'],
  ['each value in {0}', 'mỗi giá trị trong {0}'],
  ['is not valid', 'không hợp lệ'],
];

interface Entry {
  pattern: RegExp;
  vi: string;
  /** Letters outside the placeholders: the more, the more specific. */
  weight: number;
}

const PLACEHOLDER = /\{(\d)\}/g;
const HAS_PLACEHOLDER = /\{\d\}/;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compile(en: string, vi: string): Entry {
  // Splitting on a capturing pattern alternates text and placeholder index: text, index, text, …
  const source = en
    .split(PLACEHOLDER)
    .map((part, i) => (i % 2 === 0 ? escape(part) : `(?<p${part}>[\\s\\S]+?)`))
    .join('');
  return { pattern: new RegExp(`^${source}$`), vi, weight: en.replace(PLACEHOLDER, '').length };
}

interface Catalogue {
  exact: Map<string, string>;
  /** Most specific first. */
  templates: Entry[];
}

let compiled: Catalogue | undefined;

function catalogue(): Catalogue {
  if (compiled) return compiled;
  const exact = new Map<string, string>();
  const templates: Entry[] = [];
  for (const [en, vi] of ENTRIES) {
    if (HAS_PLACEHOLDER.test(en)) templates.push(compile(en, vi));
    else exact.set(en, vi);
  }
  templates.sort((a, b) => b.weight - a.weight);
  compiled = { exact, templates };
  return compiled;
}

/** Messages longer than this are not matched (the longest English entry is under 300 characters). */
const MAX_MESSAGE_LENGTH = 4_000;

/**
 * The Vietnamese of an English message of the hub, or undefined when the catalogue has no entry that
 * matches it whole. Interpolated parts are copied, or translated when they are themselves a message of
 * the catalogue.
 */
export function messageVi(message: string): string | undefined {
  return translate(message, 0)?.text;
}

interface Translation {
  text: string;
  /** How many English characters the catalogue's words covered: of two readings, the larger wins. */
  weight: number;
}

function translate(message: string, depth: number): Translation | undefined {
  if (message.length > MAX_MESSAGE_LENGTH || depth > 4) return undefined;
  const { exact, templates } = catalogue();
  const direct = exact.get(message);
  if (direct !== undefined) return { text: direct, weight: message.length };
  let best: Translation | undefined;
  for (const entry of templates) {
    const match = entry.pattern.exec(message);
    if (!match?.groups) continue;
    const groups = match.groups;
    let weight = entry.weight;
    const text = entry.vi.replace(PLACEHOLDER, (_, index: string) => {
      const part = groups[`p${index}`] ?? '';
      const inner = translate(part, depth + 1);
      weight += inner?.weight ?? 0;
      return inner?.text ?? part;
    });
    best = { text, weight };
    break;
  }
  // `<what>: <why>`: the hub's words and a driver's own message (`cannot read the global log: …`), or a
  // payment callback's member and what is wrong with it (`SoTien: expected …`). Each side is
  // translated when it can be; a name or a driver's message is kept.
  const colon = message.indexOf(': ');
  if (colon > 0) {
    const what = translate(message.slice(0, colon), depth + 1);
    const why = translate(message.slice(colon + 2), depth + 1);
    const weight = (what?.weight ?? 0) + (why?.weight ?? 0);
    if (weight > (best?.weight ?? 0)) {
      best = {
        text: `${what?.text ?? message.slice(0, colon)}: ${why?.text ?? message.slice(colon + 2)}`,
        weight,
      };
    }
  }
  return best;
}

/** The English texts of the catalogue (for tests that check the table itself). */
export const MESSAGE_CATALOGUE_VI: readonly (readonly [en: string, vi: string])[] = ENTRIES;
