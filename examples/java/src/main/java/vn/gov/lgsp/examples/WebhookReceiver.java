package vn.gov.lgsp.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A receiver of lgsp-hub webhooks with the JDK only (com.sun.net.httpserver, javax.crypto).
 *
 * <p>Run: LGSP_WEBHOOK_SECRET=whsec_… PORT=8088 mvn -f examples/java compile exec:java@receiver
 *
 * <p>Verifies each delivery's Standard Webhooks signature (401 when it does not hold or is older
 * than five minutes, 204 otherwise), drops repeats by webhook-id, checks each dossier's order by
 * lgspstream and lgspstreamversion, and prints one JSON line per request with the counts so far.
 * Stops on Ctrl-C or SIGTERM, printing the counts.
 */
public final class WebhookReceiver {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TOLERANCE_SECONDS = 5 * 60;

  private final byte[] key;
  // In memory for the example; a real receiver keeps both in its database, in the transaction that
  // applies the event, so a restart neither applies an event twice nor forgets where a dossier was.
  private final Set<String> handled = new HashSet<>(); // webhook-id of every event applied
  private final Map<String, Long> versions = new HashMap<>(); // lgspstream -> last version applied
  private int verified;
  private int refused;
  private int repeats;

  WebhookReceiver(String secret) {
    // The key is the base64 after whsec_. After `lgsp webhooks rotate-secret`, restart with the new
    // secret: while the previous one still signs, the hub sends both signatures, and one is enough.
    this.key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
  }

  public static void main(String[] args) throws Exception {
    // UTF-8 whatever the locale: names and problems are Vietnamese.
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8));
    String secret = System.getenv().getOrDefault("LGSP_WEBHOOK_SECRET", "");
    if (!secret.startsWith("whsec_")) {
      System.err.println("LGSP_WEBHOOK_SECRET is required (the whsec_… that `lgsp webhooks create` printed)");
      System.exit(78);
    }
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8088"));
    WebhookReceiver receiver = new WebhookReceiver(secret);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
    server.createContext("/", receiver::handle);
    server.setExecutor(Executors.newFixedThreadPool(4));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.stop(0);
                  receiver.print(receiver.counts(Map.of("outcome", "stopped")));
                }));
    server.start();
    System.out.println("listening on http://127.0.0.1:" + port);
    System.out.flush();
    Thread.currentThread().join(); // until Ctrl-C or SIGTERM
  }

  /** Null when the delivery is the hub's, else why not. */
  String verify(String id, String timestamp, String signatures, byte[] body) throws Exception {
    if (id == null || timestamp == null || signatures == null) {
      return "missing webhook-id, webhook-timestamp or webhook-signature";
    }
    long sent;
    try {
      sent = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return "webhook-timestamp is not a number";
    }
    if (Math.abs(System.currentTimeMillis() / 1000 - sent) > TOLERANCE_SECONDS) {
      return "webhook-timestamp is more than five minutes away";
    }
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
    byte[] expected = ("v1," + Base64.getEncoder().encodeToString(mac.doFinal(body))).getBytes(StandardCharsets.UTF_8);
    // One signature per secret in force, separated by spaces; one that matches is enough.
    for (String given : signatures.split(" ")) {
      if (MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) return null;
    }
    return "no signature matches";
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      // The signature covers the exact bytes received: verify them, never a re-serialised object.
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      exchange.getRequestBody().transferTo(body);
      int status = receive(exchange, body.toByteArray());
      exchange.sendResponseHeaders(status, -1);
    } catch (Exception e) {
      System.err.println("cannot handle a delivery: " + e);
    }
  }

  private synchronized int receive(HttpExchange exchange, byte[] body) throws Exception {
    String id = exchange.getRequestHeaders().getFirst("webhook-id");
    String reason =
        verify(
            id,
            exchange.getRequestHeaders().getFirst("webhook-timestamp"),
            exchange.getRequestHeaders().getFirst("webhook-signature"),
            body);
    if (reason != null) {
      refused++;
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("outcome", "refused");
      line.put("reason", reason);
      print(counts(line));
      return 401;
    }
    JsonNode event = JSON.readTree(body);
    String stream = event.path("lgspstream").asText();
    long version = event.path("lgspstreamversion").asLong();
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("outcome", null);
    line.put("webhookId", id);
    line.put("position", event.path("lgspposition").asLong());
    line.put("stream", stream);
    line.put("streamVersion", version);
    line.put("type", event.path("type").asText());
    if (event.hasNonNull("lgspreplay")) line.put("replay", event.path("lgspreplay").asText());
    if (handled.contains(id)) {
      repeats++;
      line.put("outcome", "repeat");
      print(counts(line));
      return 204; // already applied: acknowledge, or the hub sends it again
    }
    // A filter on types skips versions, so a gap is normal; going back is not.
    long last = versions.getOrDefault(stream, 0L);
    handled.add(id);
    versions.put(stream, Math.max(last, version));
    verified++;
    line.put("outcome", version > last ? "ok" : "out-of-order");
    print(counts(line));
    return 204;
  }

  private synchronized Map<String, Object> counts(Map<String, Object> line) {
    Map<String, Object> all = new LinkedHashMap<>(line);
    all.put("verified", verified);
    all.put("refused", refused);
    all.put("repeats", repeats);
    return all;
  }

  private void print(Map<String, Object> line) {
    try {
      System.out.println(JSON.writeValueAsString(line));
      System.out.flush();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
