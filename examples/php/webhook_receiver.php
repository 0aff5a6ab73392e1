<?php
// A receiver of lgsp-hub webhooks with PHP's bundled extensions only (Debian's php-cli).
//
// Run: LGSP_WEBHOOK_SECRET=whsec_… PORT=8088 php examples/php/webhook_receiver.php
//
// Verifies each delivery's Standard Webhooks signature (401 when it does not hold or is older than
// five minutes, 204 otherwise), drops repeats by webhook-id, checks each dossier's order by
// lgspstream and lgspstreamversion, and prints one JSON line per request with the counts so far.
// Stops on Ctrl-C or SIGTERM, printing the counts. In a PHP application behind a web server, the
// function verify() is all it takes: pass it the headers and file_get_contents('php://input').

declare(strict_types=1);

const TOLERANCE_SECONDS = 5 * 60;

$secret = (string) getenv('LGSP_WEBHOOK_SECRET');
$port = (int) (getenv('PORT') ?: 8088);
if (!str_starts_with($secret, 'whsec_')) {
    fwrite(STDERR, "LGSP_WEBHOOK_SECRET is required (the whsec_… that `lgsp webhooks create` printed)\n");
    exit(78);
}
// The key is the base64 after whsec_. After `lgsp webhooks rotate-secret`, restart with the new
// secret: while the previous one still signs, the hub sends both signatures, and one matching is enough.
$key = base64_decode(substr($secret, strlen('whsec_')), true);

/** Null when the delivery is the hub's, else why not. $headers has lower-case names. */
function verify(string $key, array $headers, string $body): ?string
{
    $id = $headers['webhook-id'] ?? '';
    $timestamp = $headers['webhook-timestamp'] ?? '';
    $signatures = $headers['webhook-signature'] ?? '';
    if ($id === '' || $timestamp === '' || $signatures === '') {
        return 'missing webhook-id, webhook-timestamp or webhook-signature';
    }
    if (!ctype_digit($timestamp)) {
        return 'webhook-timestamp is not a number';
    }
    if (abs(time() - (int) $timestamp) > TOLERANCE_SECONDS) {
        return 'webhook-timestamp is more than five minutes away';
    }
    // The exact bytes received, never a re-serialised object.
    $expected = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
    // One signature per secret in force, separated by spaces; one that matches is enough.
    foreach (explode(' ', $signatures) as $given) {
        if (hash_equals($expected, $given)) {
            return null;
        }
    }
    return 'no signature matches';
}

// In memory for the example; a real receiver keeps both in its database, in the transaction that
// applies the event, so a restart neither applies an event twice nor forgets where a dossier was.
$handled = []; // webhook-id => true for every event applied
$versions = []; // lgspstream => the last lgspstreamversion applied
$counts = ['verified' => 0, 'refused' => 0, 'repeats' => 0];

/** Handles one delivery; returns the HTTP status and the line to print. */
function receive(array $headers, string $body): array
{
    global $key, $handled, $versions, $counts;
    $reason = verify($key, $headers, $body);
    if ($reason !== null) {
        $counts['refused']++;
        return [401, ['outcome' => 'refused', 'reason' => $reason] + $counts];
    }
    $event = json_decode($body, true, 512, JSON_THROW_ON_ERROR);
    $id = $headers['webhook-id'];
    $line = [
        'webhookId' => $id,
        'position' => $event['lgspposition'] ?? null,
        'stream' => $event['lgspstream'] ?? null,
        'streamVersion' => $event['lgspstreamversion'] ?? null,
        'type' => $event['type'] ?? null,
    ];
    if (isset($event['lgspreplay'])) {
        $line['replay'] = $event['lgspreplay'];
    }
    if (isset($handled[$id])) {
        $counts['repeats']++;
        return [204, ['outcome' => 'repeat'] + $line + $counts]; // acknowledge, or it comes again
    }
    // A filter on types skips versions, so a gap is normal; going back is not.
    $last = $versions[$line['stream']] ?? 0;
    $handled[$id] = true;
    $versions[$line['stream']] = max($last, $line['streamVersion']);
    $counts['verified']++;
    return [204, ['outcome' => $line['streamVersion'] > $last ? 'ok' : 'out-of-order'] + $line + $counts];
}

function printLine(array $line): void
{
    echo json_encode($line, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
    fflush(STDOUT);
}

/** Reads one HTTP/1.1 request from $conn: [method, lower-case headers, body], or null. */
function readRequest($conn): ?array
{
    $head = '';
    while (!str_contains($head, "\r\n\r\n")) {
        $chunk = fread($conn, 8192);
        if ($chunk === false || $chunk === '') {
            return null;
        }
        $head .= $chunk;
    }
    [$head, $body] = explode("\r\n\r\n", $head, 2);
    $lines = explode("\r\n", $head);
    $method = explode(' ', array_shift($lines))[0];
    $headers = [];
    foreach ($lines as $line) {
        [$name, $value] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
        $headers[strtolower($name)] = $value;
    }
    $length = (int) ($headers['content-length'] ?? 0);
    while (strlen($body) < $length) {
        $chunk = fread($conn, $length - strlen($body));
        if ($chunk === false || $chunk === '') {
            return null;
        }
        $body .= $chunk;
    }
    return [$method, $headers, $body];
}

$server = stream_socket_server("tcp://127.0.0.1:$port", $errno, $error);
if ($server === false) {
    fwrite(STDERR, "cannot listen on 127.0.0.1:$port: $error\n");
    exit(1);
}
$running = true;
pcntl_async_signals(true);
pcntl_signal(SIGTERM, function () use (&$running) { $running = false; });
pcntl_signal(SIGINT, function () use (&$running) { $running = false; });
echo "listening on http://127.0.0.1:$port\n";
fflush(STDOUT);

while ($running) {
    $conn = @stream_socket_accept($server, 1); // wakes every second to see a signal
    if ($conn === false) {
        continue;
    }
    stream_set_timeout($conn, 15);
    $request = readRequest($conn);
    if ($request !== null) {
        [$method, $headers, $body] = $request;
        if ($method === 'POST') {
            [$status, $line] = receive($headers, $body);
            printLine($line);
        } else {
            $status = 405;
        }
        // One request per connection: the hub opens another for the next delivery.
        fwrite($conn, "HTTP/1.1 $status " . ($status === 204 ? 'No Content' : ($status === 401 ? 'Unauthorized' : 'Method Not Allowed')) . "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    fclose($conn);
}
printLine(['outcome' => 'stopped'] + $counts);
