// Local MongoDB-wire stand-in: mongo-java-server with its H2 (MVStore) backend, persisted to one file.
//
// Run without a compile step (Java 11+ single-file source mode):
//   java -Xmx256m -cp '.local/lib/mongo/*' deploy/local/MongoLauncher.java <h2-file-path> <host> <port>
//
// - The oplog is enabled when the API exists (change streams need it). Disable with -Ds8.mongo.oplog=false.
//   Note: mongo-java-server keeps the oplog in local.oplog.rs, which is not capped: it grows with every write
//   until `infra.sh reset`.
// - SIGTERM/SIGINT run a shutdown hook that stops listening, closes clients and closes the H2 store,
//   so the file is left consistent.
// - Reported server version: mongo-java-server 1.47.0 emulates MongoDB 5.0 but announces maxWireVersion 8,
//   which PyMongo >= 4.14 refuses ("requires at least 9 (MongoDB 4.4)"). The launcher announces MongoDB 5.0.0
//   with wire version 13 (the real 5.0 value); override with -Ds8.mongo.wireVersion=N. The version is only
//   reported to clients: it changes nothing in the server's behaviour.
// - Logging goes through slf4j-simple (stderr); level with -Dorg.slf4j.simpleLogger.defaultLogLevel=debug.

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;

import java.io.File;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.CountDownLatch;

public class MongoLauncher {

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: java -cp '<lib>/mongo/*' MongoLauncher.java <h2-file-path> <host> <port>");
            System.exit(2);
        }
        String path = args[0];
        String host = args[1];
        int port;
        try {
            port = Integer.parseInt(args[2]);
        } catch (NumberFormatException e) {
            System.err.println("invalid port: " + args[2]);
            System.exit(2);
            return;
        }

        // slf4j-simple defaults (before any logger is created); -D on the command line wins.
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "info");
        // one INFO line per client connect/disconnect otherwise
        setDefault("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler", "warn");

        File file = new File(path).getAbsoluteFile();
        File parent = file.getParentFile();
        if (parent != null && !parent.isDirectory() && !parent.mkdirs()) {
            System.err.println("cannot create directory " + parent);
            System.exit(1);
        }

        final H2Backend backend;
        try {
            backend = new H2Backend(file.getPath());
        } catch (RuntimeException e) {
            System.err.println("cannot open H2 file " + file + ": " + e);
            System.exit(1);
            return;
        }
        final int wireVersion = Integer.getInteger("s8.mongo.wireVersion", 13);
        backend.version(new MongoVersion() {
            @Override
            public List<Integer> getVersionArray() {
                return List.of(5, 0, 0);
            }

            @Override
            public int getWireVersion() {
                return wireVersion;
            }
        });
        final MongoServer server = new MongoServer(backend);

        if (!"false".equalsIgnoreCase(System.getProperty("s8.mongo.oplog", "true"))) {
            enableOplogIfAvailable(server);
        }

        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("mongo-java-server shutting down (closing " + file + ")");
            System.out.flush();
            try {
                server.shutdownNow(); // stop listening, close clients, close backend (MVStore.close)
            } catch (Throwable t) {
                System.err.println("error during shutdown: " + t);
            } finally {
                stopped.countDown();
            }
            System.out.println("mongo-java-server stopped");
            System.out.flush();
        }, "mongo-shutdown"));

        try {
            server.bind(host, port);
        } catch (RuntimeException e) {
            System.err.println("cannot bind mongo-java-server to " + host + ":" + port + ": " + e);
            System.exit(1); // the hook closes the H2 store
        }

        System.out.println("mongo-java-server listening on " + host + ":" + port
                + " (h2 file " + file + ", reports MongoDB 5.0.0, maxWireVersion " + wireVersion + ")");
        System.out.flush();
        stopped.await();
    }

    private static void enableOplogIfAvailable(MongoServer server) {
        try {
            Method m = MongoServer.class.getMethod("enableOplog");
            m.invoke(server);
            System.out.println("oplog enabled (change streams available)");
        } catch (NoSuchMethodException e) {
            System.out.println("this mongo-java-server has no enableOplog(): change streams unavailable");
        } catch (ReflectiveOperationException e) {
            System.err.println("enableOplog() failed: " + e);
        }
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
