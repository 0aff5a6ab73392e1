import { execFileSync } from 'node:child_process';
import { describeClientExample } from '../support/client-examples.testing.js';
import { REPO_ROOT } from '../support/hub-process.js';

/**
 * examples/java: Java 17 and Maven, the official CloudEvents Java SDK from Maven Central. Maven
 * resolves the SDK and the plugins here, once; the examples' runs then need no network.
 */
describeClientExample({
  language: 'java',
  pushFile: 'examples/java/src/main/java/vn/gov/lgsp/examples/PushLifecycle.java',
  receiverFile: 'examples/java/src/main/java/vn/gov/lgsp/examples/WebhookReceiver.java',
  push: ['mvn', '-f', 'examples/java', 'compile', 'exec:java@push'],
  receiver: ['mvn', '-f', 'examples/java', 'compile', 'exec:java@receiver'],
  prepare: () => {
    const need = (what: string, command: string, args: string[]): string => {
      try {
        return execFileSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        throw new Error(`the Java examples need ${what}`, { cause: error });
      }
    };
    const java = need("Java 17 or later (Debian's openjdk-17-jdk-headless)", 'javac', ['-version']);
    if (!/javac (1[7-9]|[2-9]\d)/.test(java))
      throw new Error(`the Java examples need javac 17 or later, not ${java}`);
    need("Maven (Debian's maven)", 'mvn', ['--version']);
    need(
      'Maven to resolve io.cloudevents:cloudevents-core, -http-basic and -json-jackson 4.0.1 and the plugins of examples/java/pom.xml from Maven Central (or a local repository that has them)',
      'mvn',
      ['-f', 'examples/java', 'dependency:go-offline', 'compile'],
    );
  },
  prepareTimeoutMs: 300_000,
  stopExitCode: 143,
});
