<?php
// Push one dossier's lifecycle to lgsp-hub with PHP's bundled extensions only (Debian's php-cli:
// no curl, no Composer package; HTTP with stream contexts).
//
// Run: LGSP_URL=http://127.0.0.1:3000 LGSP_TOKEN=lgsp_… php examples/php/push_lifecycle.php
//
// What it does, in the order a commune's one-stop shop would:
//   1. binary mode: dossier.submitted at expected version 0 (the dossier must be new), then the same
//      event again, as a retry after a timeout would (the hub answers 200, duplicate: true);
//   2. binary mode: status-changed 2 (received) at expected version 1;
//   3. a stale expected version (another desk moved the dossier meanwhile): 409; the client reads the
//      stream's version and sends the change again at that version;
//   4. batch mode: fee due, payment completed, processing finished, result returned, all or nothing;
//   5. a batch with an invalid event: 422, nothing appended; prints the problem's errors.
// Prints one line per answer, then a JSON summary line.
// Optional: DOSSIER_CODE (default: a new code), LGSP_COMMUNE (21040), LGSP_PROVINCE (51),
// LGSP_AGENCY (000.00.51.H56), LGSP_ACCEPT_LANGUAGE (vi: the problems in Vietnamese).

declare(strict_types=1);

function env(string $name, string $default = ''): string
{
    $value = getenv($name);
    return $value === false || $value === '' ? $default : $value;
}

$url = rtrim(env('LGSP_URL', 'http://127.0.0.1:3000'), '/');
$token = env('LGSP_TOKEN');
$commune = env('LGSP_COMMUNE', '21040');
$province = env('LGSP_PROVINCE', '51');
$agency = env('LGSP_AGENCY', '000.00.51.H56');
$source = "/communes/$commune/one-stop-shop";
$ict = new DateTimeZone('+07:00'); // Vietnam

if ($token === '') {
    fwrite(STDERR, "LGSP_TOKEN is required (the commune client's token that `lgsp clients create` printed)\n");
    exit(78);
}
$code = env('DOSSIER_CODE', sprintf('%s-%s-%04d', $agency, (new DateTimeImmutable('now', $ict))->format('ymd'), random_int(0, 9999)));
$stream = "dossier-$code";

/** An RFC 9457 problem the hub answered (4xx or 5xx). */
final class Problem extends RuntimeException
{
    public function __construct(public readonly int $status, public readonly array $body)
    {
        parent::__construct("$status " . ($body['title'] ?? ''));
    }
}

/** Sends one request; returns [status, decoded JSON body], throws Problem on 4xx/5xx. */
function request(string $method, string $path, ?string $body = null, array $headers = []): array
{
    global $url, $token;
    $headers = array_merge(['Authorization' => "Bearer $token", 'Accept' => 'application/json'], $headers);
    if (env('LGSP_ACCEPT_LANGUAGE') !== '') {
        $headers['Accept-Language'] = env('LGSP_ACCEPT_LANGUAGE');
    }
    $lines = [];
    foreach ($headers as $name => $value) {
        $lines[] = "$name: $value";
    }
    $context = stream_context_create(['http' => [
        'method' => $method,
        'content' => $body ?? '',
        'ignore_errors' => true, // read the problem document of a 4xx/5xx instead of failing
        'timeout' => 30,
        'protocol_version' => 1.1,
        'header' => implode("\r\n", array_merge($lines, ['Connection: close'])),
    ]]);
    $text = file_get_contents($url . $path, false, $context);
    if ($text === false) {
        throw new RuntimeException("cannot reach the hub at $url");
    }
    // $http_response_header holds the status line and headers of this answer.
    preg_match('#^HTTP/\S+ (\d{3})#', $http_response_header[0] ?? '', $m);
    $status = (int) ($m[1] ?? 0);
    $decoded = $text === '' ? [] : json_decode($text, true, 512, JSON_THROW_ON_ERROR);
    if ($status >= 400) {
        throw new Problem($status, $decoded);
    }
    return [$status, $decoded];
}

function now(): string
{
    global $ict;
    return (new DateTimeImmutable('now', $ict))->format(DATE_RFC3339);
}

/** A structured CloudEvent; `expectedversion` makes the append conditional on the stream's version. */
function event(string $kind, array $data, ?int $expectedVersion = null): array
{
    global $source, $code, $province, $commune;
    $event = [
        'specversion' => '1.0',
        'id' => uuid(),
        'source' => $source,
        'type' => "vn.gov.lgsp.$kind.v1",
        'time' => now(),
        'datacontenttype' => 'application/json',
        'data' => ['dossierCode' => $code, 'provinceCode' => $province, 'communeCode' => $commune] + $data,
    ];
    if ($expectedVersion !== null) {
        $event['expectedversion'] = $expectedVersion;
    }
    return $event;
}

function uuid(): string
{
    $b = random_bytes(16);
    $b[6] = chr(ord($b[6]) & 0x0f | 0x40);
    $b[8] = chr(ord($b[8]) & 0x3f | 0x80);
    return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($b), 4));
}

function status(int $code, array $more = []): array
{
    return ['status' => $code, 'changedAt' => now()] + $more;
}

function json(mixed $value): string
{
    return json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
}

/** Binary mode: the attributes in ce-* headers, the data as the body. */
function sendBinary(array $event): array
{
    $headers = ['Content-Type' => 'application/json; charset=utf-8'];
    foreach ($event as $name => $value) {
        if ($name !== 'data' && $name !== 'datacontenttype') {
            // The binding percent-encodes (as UTF-8) a space, '"', '%' and all but printable ASCII.
            $headers["ce-$name"] = preg_replace_callback('/[^\x21\x23\x24\x26-\x7e]/', fn ($m) => rawurlencode($m[0]), (string) $value);
        }
    }
    return request('POST', '/v1/events', json($event['data']), $headers);
}

/** Batch mode: a JSON array of structured events, appended all or nothing. */
function sendBatch(array $events): array
{
    return request('POST', '/v1/events', json($events), ['Content-Type' => 'application/cloudevents-batch+json']);
}

function streamVersion(): int
{
    global $stream;
    return request('GET', '/v1/streams/' . rawurlencode($stream) . '?limit=1')[1]['version'];
}

$summary = ['example' => 'php', 'dossierCode' => $code, 'accepted' => 0, 'duplicates' => 0, 'conflicts' => 0, 'problems' => 0];

function count_results(array $answer, string $what): void
{
    global $summary;
    [$status, $body] = $answer;
    foreach ($body['results'] as $r) {
        $summary[$r['duplicate'] ? 'duplicates' : 'accepted']++;
        printf("%d %s: %s v%s at %s%s\n", $status, $what, $r['stream'] ?? '', $r['streamVersion'] ?? '', $r['position'] ?? '', $r['duplicate'] ? ' (duplicate)' : '');
    }
}

// 1. The dossier is received at the one-stop shop: it must not exist yet (expected version 0).
$submitted = event('dossier.submitted', [
    'procedureCode' => '1.001193',
    'procedureName' => 'Đăng ký khai sinh',
    'agencyCode' => $agency,
    'channel' => 'in-person',
    'applicant' => ['fullName' => 'Nguyễn Thị Hoà', 'idNumber' => '051190001234'],
    'receivedAt' => now(),
    'fees' => [['name' => 'Lệ phí', 'amount' => 50000]],
], 0);
count_results(sendBinary($submitted), 'submitted');
// A retry of the same event (same source and id), as after a timeout: stored once, answered 200.
count_results(sendBinary($submitted), 'submitted again');

// 2. Received (status 2) at version 1.
count_results(sendBinary(event('dossier.status-changed', status(2), 1)), 'status 2');

// 3. In processing (status 4), but sent at a stale version: 409. Read the stream's version and decide
// again; here the change still applies, so it is sent at the version the stream is at.
$inProcessing = event('dossier.status-changed', status(4, ['previousStatus' => 2]), 1);
try {
    sendBinary($inProcessing);
} catch (Problem $p) {
    if ($p->status !== 409) {
        throw $p;
    }
    $summary['conflicts']++;
    echo "409 {$p->body['detail']}\n";
    $inProcessing['expectedversion'] = streamVersion();
    count_results(sendBinary($inProcessing), 'status 4 after the conflict');
}

// 4. Fee due, paid, finished, returned: one batch, each event at the version its predecessor leaves.
$version = $inProcessing['expectedversion'] + 1;
$steps = [
    ['dossier.status-changed', status(6, ['previousStatus' => 4])],
    ['payment.completed', ['paymentRef' => "PR-$code", 'transactionId' => 'TX-' . bin2hex(random_bytes(4)), 'amount' => 50000, 'paidAt' => now()]],
    ['dossier.status-changed', status(9, ['previousStatus' => 6])],
    ['dossier.status-changed', status(10, ['previousStatus' => 9])],
];
$batch = [];
foreach ($steps as $i => [$kind, $data]) {
    $batch[] = event($kind, $data, $version + $i);
}
count_results(sendBatch($batch), 'batch');

// 5. A batch whose second event is invalid (no such status, a time without offset): 422, nothing stored.
$bad = event('dossier.status-changed', ['status' => 11, 'changedAt' => '2025-11-23T09:20:00']);
try {
    sendBatch([event('dossier.status-changed', status(10)), $bad]);
} catch (Problem $p) {
    if ($p->status !== 422) {
        throw $p;
    }
    $summary['problems']++;
    echo "422 {$p->body['title']}: {$p->body['detail']}\n";
    foreach ($p->body['errors'] ?? [] as $error) {
        echo "  {$error['pointer']}: {$error['message']}\n";
    }
}

$summary['streamVersion'] = streamVersion();
echo json($summary), "\n";
