package vn.gov.lgsp.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.core.format.EventFormat;
import io.cloudevents.core.provider.EventFormatProvider;
import io.cloudevents.http.HttpMessageFactory;
import io.cloudevents.jackson.JsonFormat;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Pushes one dossier's lifecycle to lgsp-hub with the official CloudEvents Java SDK.
 *
 * <p>Run: LGSP_URL=http://127.0.0.1:3000 LGSP_TOKEN=lgsp_… mvn -f examples/java compile exec:java@push
 *
 * <p>What it does, in the order a commune's one-stop shop would:
 *
 * <ol>
 *   <li>binary mode: dossier.submitted at expected version 0 (the dossier must be new), then the
 *       same event again, as a retry after a timeout would (the hub answers 200, duplicate: true);
 *   <li>binary mode: status-changed 2 (received) at expected version 1;
 *   <li>a stale expected version (another desk moved the dossier meanwhile): 409; the client reads
 *       the stream's version and sends the change again at that version;
 *   <li>batch mode: fee due, payment completed, processing finished, result returned, all or
 *       nothing;
 *   <li>a batch with an invalid event: 422, nothing appended; prints the problem's errors.
 * </ol>
 *
 * Prints one line per answer, then a JSON summary line. Optional: DOSSIER_CODE (default: a new
 * code), LGSP_COMMUNE (21040), LGSP_PROVINCE (51), LGSP_AGENCY (000.00.51.H56),
 * LGSP_ACCEPT_LANGUAGE (vi: the problems in Vietnamese).
 */
public final class PushLifecycle {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ZoneOffset ICT = ZoneOffset.ofHours(7); // Vietnam
  private static final String EXPECTED_VERSION = "expectedversion";

  /** An RFC 9457 problem the hub answered (4xx or 5xx). */
  static final class Problem extends Exception {
    final int status;
    final JsonNode body;

    Problem(int status, JsonNode body) {
      super(status + " " + body.path("title").asText());
      this.status = status;
      this.body = body;
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  private final EventFormat jsonFormat = EventFormatProvider.getInstance().resolveFormat(JsonFormat.CONTENT_TYPE);
  private final String url = env("LGSP_URL", "http://127.0.0.1:3000").replaceAll("/+$", "");
  private final String token = env("LGSP_TOKEN", "");
  private final String commune = env("LGSP_COMMUNE", "21040");
  private final String province = env("LGSP_PROVINCE", "51");
  private final String agency = env("LGSP_AGENCY", "000.00.51.H56");
  private final URI source = URI.create("/communes/" + commune + "/one-stop-shop");
  private final String code =
      env(
          "DOSSIER_CODE",
          String.format(
              "%s-%s-%04d",
              agency,
              OffsetDateTime.now(ICT).format(DateTimeFormatter.ofPattern("yyMMdd")),
              ThreadLocalRandom.current().nextInt(10000)));
  private final String stream = "dossier-" + code;
  private final Map<String, Object> summary = new LinkedHashMap<>();

  public static void main(String[] args) throws Exception {
    // UTF-8 whatever the locale: names and problems are Vietnamese.
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8));
    PushLifecycle push = new PushLifecycle();
    if (push.token.isEmpty()) {
      System.err.println("LGSP_TOKEN is required (the commune client's token that `lgsp clients create` printed)");
      System.exit(78);
    }
    push.run();
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }

  private static String now() {
    // RFC 3339 with its seconds (toString() leaves out ":00").
    return OffsetDateTime.now(ICT).truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  private void run() throws Exception {
    summary.put("example", "java");
    summary.put("dossierCode", code);
    summary.put("accepted", 0);
    summary.put("duplicates", 0);
    summary.put("conflicts", 0);
    summary.put("problems", 0);

    // 1. The dossier is received at the one-stop shop: it must not exist yet (expected version 0).
    Map<String, Object> submittedData = new LinkedHashMap<>();
    submittedData.put("procedureCode", "1.001193");
    submittedData.put("procedureName", "Đăng ký khai sinh");
    submittedData.put("agencyCode", agency);
    submittedData.put("channel", "in-person");
    submittedData.put("applicant", Map.of("fullName", "Nguyễn Thị Hoà", "idNumber", "051190001234"));
    submittedData.put("receivedAt", now());
    submittedData.put("fees", List.of(Map.of("name", "Lệ phí", "amount", 50000)));
    CloudEvent submitted = event("dossier.submitted", submittedData, 0);
    count(sendBinary(submitted), "submitted");
    // A retry of the same event (same source and id), as after a timeout: stored once, answered 200.
    count(sendBinary(submitted), "submitted again");

    // 2. Received (status 2) at version 1.
    count(sendBinary(event("dossier.status-changed", status(2, null), 1)), "status 2");

    // 3. In processing (status 4), but sent at a stale version: 409. Read the stream's version and
    // decide again; here the change still applies, so it is sent at the version the stream is at.
    CloudEvent inProcessing = event("dossier.status-changed", status(4, 2), 1);
    try {
      sendBinary(inProcessing);
    } catch (Problem p) {
      if (p.status != 409) throw p;
      summary.merge("conflicts", 1, (a, b) -> (Integer) a + (Integer) b);
      System.out.println("409 " + p.body.path("detail").asText());
      inProcessing = CloudEventBuilder.v1(inProcessing).withExtension(EXPECTED_VERSION, streamVersion()).build();
      count(sendBinary(inProcessing), "status 4 after the conflict");
    }

    // 4. Fee due, paid, finished, returned: one batch, each event at the version its predecessor leaves.
    int version = ((Number) inProcessing.getExtension(EXPECTED_VERSION)).intValue() + 1;
    Map<String, Object> payment = new LinkedHashMap<>();
    payment.put("paymentRef", "PR-" + code);
    payment.put("transactionId", "TX-" + UUID.randomUUID().toString().substring(0, 8));
    payment.put("amount", 50000);
    payment.put("paidAt", now());
    count(
        sendBatch(
            List.of(
                event("dossier.status-changed", status(6, 4), version),
                event("payment.completed", payment, version + 1),
                event("dossier.status-changed", status(9, 6), version + 2),
                event("dossier.status-changed", status(10, 9), version + 3))),
        "batch");

    // 5. A batch whose second event is invalid (no such status, a time without offset): 422, nothing stored.
    Map<String, Object> bad = new LinkedHashMap<>();
    bad.put("status", 11);
    bad.put("changedAt", "2025-11-23T09:20:00");
    try {
      sendBatch(List.of(event("dossier.status-changed", status(10, null), null), event("dossier.status-changed", bad, null)));
    } catch (Problem p) {
      if (p.status != 422) throw p;
      summary.merge("problems", 1, (a, b) -> (Integer) a + (Integer) b);
      System.out.println("422 " + p.body.path("title").asText() + ": " + p.body.path("detail").asText());
      for (JsonNode error : p.body.path("errors")) {
        System.out.println("  " + error.path("pointer").asText() + ": " + error.path("message").asText());
      }
    }

    summary.put("streamVersion", streamVersion());
    System.out.println(JSON.writeValueAsString(summary));
  }

  /** A CloudEvent of this dossier; `expectedversion` makes the append conditional on the stream's version. */
  private CloudEvent event(String kind, Map<String, Object> data, Integer expectedVersion) throws Exception {
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("dossierCode", code);
    all.put("provinceCode", province);
    all.put("communeCode", commune);
    all.putAll(data);
    CloudEventBuilder builder =
        CloudEventBuilder.v1()
            .withId(UUID.randomUUID().toString())
            .withSource(source)
            .withType("vn.gov.lgsp." + kind + ".v1")
            .withTime(OffsetDateTime.now(ICT).truncatedTo(ChronoUnit.SECONDS))
            .withData("application/json", JSON.writeValueAsBytes(all));
    if (expectedVersion != null) builder.withExtension(EXPECTED_VERSION, expectedVersion);
    return builder.build();
  }

  private static Map<String, Object> status(int status, Integer previous) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("status", status);
    data.put("changedAt", now());
    if (previous != null) data.put("previousStatus", previous);
    return data;
  }

  /** Binary mode: the SDK writes the attributes as ce-* headers and the data as the body. */
  private HttpResponse<String> sendBinary(CloudEvent event) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + "/v1/events"));
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    HttpMessageFactory.createWriter(request::header, bytes -> body.writeBytes(bytes == null ? new byte[0] : bytes))
        .writeBinary(event);
    return send(request.POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
  }

  /** Batch mode: a JSON array of structured events (the SDK's JSON format), appended all or nothing. */
  private HttpResponse<String> sendBatch(List<CloudEvent> events) throws Exception {
    List<String> serialized = new ArrayList<>();
    for (CloudEvent e : events) serialized.add(new String(jsonFormat.serialize(e), StandardCharsets.UTF_8));
    return send(
        HttpRequest.newBuilder(URI.create(url + "/v1/events"))
            .header("Content-Type", "application/cloudevents-batch+json")
            .POST(HttpRequest.BodyPublishers.ofString("[" + String.join(",", serialized) + "]")));
  }

  private int streamVersion() throws Exception {
    String path = "/v1/streams/" + URLEncoder.encode(stream, StandardCharsets.UTF_8) + "?limit=1";
    HttpResponse<String> res = send(HttpRequest.newBuilder(URI.create(url + path)).GET());
    return JSON.readTree(res.body()).path("version").asInt();
  }

  /** Sends one request with the token; throws Problem on 4xx/5xx. */
  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    request.header("Authorization", "Bearer " + token).header("Accept", "application/json").timeout(Duration.ofSeconds(30));
    String language = env("LGSP_ACCEPT_LANGUAGE", "");
    if (!language.isEmpty()) request.header("Accept-Language", language);
    HttpResponse<String> res = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (res.statusCode() >= 400) {
      JsonNode body = res.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(res.body());
      throw new Problem(res.statusCode(), body);
    }
    return res;
  }

  private void count(HttpResponse<String> res, String what) throws Exception {
    for (JsonNode r : JSON.readTree(res.body()).path("results")) {
      boolean duplicate = r.path("duplicate").asBoolean();
      summary.merge(duplicate ? "duplicates" : "accepted", 1, (a, b) -> (Integer) a + (Integer) b);
      System.out.printf(
          "%d %s: %s v%s at %s%s%n",
          res.statusCode(),
          what,
          r.path("stream").asText(),
          r.path("streamVersion").asText(),
          r.path("position").asText(),
          duplicate ? " (duplicate)" : "");
    }
  }
}
