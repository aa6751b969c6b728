// Local MongoDB-wire store: mongo-java-server with its H2 (MVStore) backend, persisted to one file,
// made durable and indexed for s8 (measurements and the reasons in deploy/local/README.md).
//
// Run without a compile step (Java 11+ single-file source mode):
//   java -Xmx768m -cp '.local/lib/mongo/*' deploy/local/MongoLauncher.java <h2-file-path> <host> <port>
//
// What this launcher adds to mongo-java-server 1.47 as shipped:
// - Durability: every write command (insert, update, delete, findAndModify, index and collection changes)
//   commits the MVStore before it is acknowledged. As shipped, H2 commits in the background about once a
//   second, so a killed store lost up to ~1.3 s of acknowledged writes. The commit reaches the operating
//   system before the reply: a killed process loses nothing; a power loss is not covered (no fsync).
// - Secondary indexes: as shipped, every non-unique index is accepted and ignored ("not yet implemented"),
//   so every query on another field than `_id` scans its collection. SecondaryIndex keeps such an index
//   in memory (rebuilt from the documents when the store opens) and answers equality, `$in` and range
//   conditions on a prefix of its keys; the collection re-checks the whole filter on the candidates.
// - Unique indexes (and `_id`) also serve filters with further conditions (`{_id: x, rev: 3}`): as shipped
//   they are used only when the filter names exactly their keys.
// - An aggregation whose pipeline starts with $match reads through the indexes (as shipped: the whole
//   collection, then the $match); -Ds8.mongo.indexedAggregate=false gives the library's way.
// - `explain` of find and count reports the index the store will use (IXSCAN) or COLLSCAN, in the shape
//   MongoDB gives, so tests can check that every declared index is used.
// - The oplog is off: s8 opens no change streams, and mongo-java-server's oplog (local.oplog.rs, a copy of
//   every written document, never capped) made writes 2.5x slower and the file 4x larger. Enable it with
//   -Ds8.mongo.oplog=true (then change streams work).
// - SIGTERM/SIGINT run a shutdown hook that stops listening, closes clients and closes the H2 store.
// - Reported server version: MongoDB 5.0.0 with wire version 13 (PyMongo >= 4.14 refuses the 8 that
//   mongo-java-server announces); override with -Ds8.mongo.wireVersion=N. Reported only.
// - Logging goes through slf4j-simple (stderr); level with -Dorg.slf4j.simpleLogger.defaultLogLevel=debug.

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.AbstractMongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.exception.KeyConstraintError;
import de.bwaldvogel.mongo.oplog.Oplog;
import io.netty.channel.Channel;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import java.io.File;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Pattern;

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

        long opening = System.nanoTime();
        final DurableH2Backend backend;
        try {
            // A larger page cache than H2's 16 MB default keeps the hot documents deserialized.
            // H2 rewrites chunks under the store lock while they are less than this full (90% by
            // default); with a commit per write that housekeeping took most of the store's CPU.
            MVStore.Builder builder = new MVStore.Builder().fileName(file.getPath())
                .cacheSize(Integer.getInteger("s8.mongo.cacheMB", 128))
                .autoCompactFillRate(Integer.getInteger("s8.mongo.compactFillRate", 40));
            if (!"false".equalsIgnoreCase(System.getProperty("s8.mongo.compress", "true"))) {
                builder = builder.compress(); // documents are stored Java-serialized: LZF shrinks them a lot
            }
            backend = new DurableH2Backend(builder.open());
        } catch (RuntimeException e) {
            System.err.println("cannot open H2 file " + file + ": " + e);
            System.exit(1);
            return;
        }
        long openedMs = (System.nanoTime() - opening) / 1_000_000;
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

        if ("true".equalsIgnoreCase(System.getProperty("s8.mongo.oplog", "false"))) {
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
                + " (h2 file " + file + ", opened and indexed in " + openedMs + " ms, reports MongoDB 5.0.0, maxWireVersion "
                + wireVersion + ", commits every write before acknowledging it)");
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

/** Commits before acknowledging every write; answers explain; opens indexed databases. */
class DurableH2Backend extends H2Backend {

    private static final Set<String> WRITES = Set.of(
        "insert", "update", "delete", "findandmodify", "createindexes", "dropindexes", "drop",
        "dropdatabase", "create", "renamecollection");

    // -Ds8.mongo.commitEveryWrite=false and -Ds8.mongo.secondaryIndexes=false give the store as
    // shipped, for measuring what each change costs and buys (deploy/local/bench_store.py).
    static final boolean COMMIT_EVERY_WRITE =
        !"false".equalsIgnoreCase(System.getProperty("s8.mongo.commitEveryWrite"));

    // mongo-java-server takes no lock: an update changes the stored document in place (a reader
    // encoding it failed with ConcurrentModificationException, and its client waited for a reply that
    // never came), and two guarded findAndModify on one document could both pass their guard. Writes
    // run one at a time, reads beside each other, as MongoDB's document-level atomicity promises.
    private final ReentrantReadWriteLock access = new ReentrantReadWriteLock();

    DurableH2Backend(MVStore store) {
        super(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        // Called from H2Backend's constructor too: use nothing of this class's own state.
        return new IndexedH2Database(databaseName, getMvStore(), getCursorRegistry());
    }

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        if (command.equalsIgnoreCase("explain")) {
            return explain(databaseName, query);
        }
        if (command.equalsIgnoreCase("listdatabases") && databaseName.equals("admin")) {
            return listDatabases();
        }
        boolean write = WRITES.contains(command.toLowerCase(Locale.ROOT));
        Lock held = write ? access.writeLock() : access.readLock();
        held.lock();
        try {
            Document reply = super.handleCommand(channel, databaseName, command, query);
            // The reply is encoded after this returns, and it holds the stored documents themselves:
            // a copy, so a later update cannot change one while it is being encoded.
            return reply == null ? null : reply.cloneDeeply();
        } finally {
            // Also after a failed write: an ordered insert may have stored part of its batch.
            if (COMMIT_EVERY_WRITE && write) {
                commit();
            }
            held.unlock();
        }
    }

    // The library's listDatabases opens a second instance of every database (not the one in use):
    // each call rebuilt every index by reading whole collections, and the second instance's scans
    // raced the first one's writes ("Chunk ... not found" at 200,000 tickets). The databases in use
    // answer instead.
    private Document listDatabases() {
        List<Document> databases = new ArrayList<>();
        for (String name : new java.util.TreeSet<>(listDatabaseNames())) {
            MongoDatabase database = resolveDatabase(name);
            databases.add(new Document("name", name).append("empty", database.isEmpty()));
        }
        return new Document("databases", databases).append("ok", 1.0);
    }

    private Document explain(String databaseName, Document query) {
        Document inner = (Document) query.get("explain");
        String kind = inner.keySet().iterator().next();
        String collectionName = String.valueOf(inner.get(kind));
        Object filter = kind.equalsIgnoreCase("count") ? inner.get("query") : inner.get("filter");
        if (kind.equalsIgnoreCase("aggregate")) { // what IndexedH2Database reads for the pipeline
            filter = IndexedH2Database.leadingMatch(inner);
        }
        Document plan = new Document("stage", "COLLSCAN");
        MongoDatabase database = resolveDatabase(databaseName);
        MongoCollection<?> collection = database instanceof AbstractMongoDatabase<?> db
            ? db.resolveCollection(collectionName, false) : null;
        Index<?> index = collection != null && filter instanceof Document f && !f.isEmpty()
            ? IndexedH2Collection.best(collection.getIndexes(), f) : null;
        if (index != null) {
            Document keyPattern = new Document();
            for (IndexKey key : index.getKeys()) {
                keyPattern.put(key.getKey(), key.isAscending() ? 1 : -1);
            }
            Document scan = new Document("stage", "IXSCAN").append("indexName", index.getName())
                .append("keyPattern", keyPattern);
            plan = new Document("stage", "FETCH").append("inputStage", scan);
        }
        Document planner = new Document("namespace", databaseName + "." + collectionName)
            .append("winningPlan", plan);
        // The documents the query reads (the index's candidates, or the whole collection), as
        // MongoDB's executionStats.totalDocsExamined.
        long examined = 0;
        if (index != null) {
            for (Object ignored : ((Index<?>) index).getPositions((Document) filter)) {
                examined++;
            }
        } else if (collection != null) {
            examined = collection.count();
        }
        return new Document("queryPlanner", planner)
            .append("executionStats", new Document("totalDocsExamined", examined))
            .append("ok", 1.0);
    }
}

/** H2's database with real secondary indexes and unique indexes that serve wider filters. */
class IndexedH2Database extends H2Database {

    // H2Database's constructor opens the collections (openOrCreateCollection) before a subclass field
    // could be set; one store serves the whole process, so it is kept here.
    static volatile MVStore store;

    IndexedH2Database(String databaseName, MVStore mvStore, CursorRegistry cursorRegistry) {
        super(databaseName, remember(mvStore), cursorRegistry);
    }

    private static MVStore remember(MVStore mvStore) {
        store = mvStore;
        return mvStore;
    }

    @Override
    protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
        // The same maps H2Database opens ("databases." and "meta." + namespace).
        String fullName = getFullCollectionNamespace(collectionName);
        MVMap<Object, Document> dataMap = store.openMap("databases." + fullName);
        MVMap<String, Object> metaMap = store.openMap("meta." + fullName);
        return new IndexedH2Collection(this, collectionName, options, dataMap, metaMap, cursorRegistry);
    }

    // As shipped, an aggregation reads its whole collection and filters it in the pipeline (intake's
    // customer look-up, a $match on _id joined with $lookup, scanned every identity per message).
    // A pipeline that starts with $match reads through the collection's indexes, as a find does.
    @Override
    public Document handleCommand(Channel channel, String command, Document query, DatabaseResolver databaseResolver,
                                  Oplog oplog) {
        if (command.equalsIgnoreCase("aggregate") && INDEXED_AGGREGATE) {
            Document answer = aggregateFromMatch(command, query, databaseResolver, oplog);
            if (answer != null) {
                return answer;
            }
        }
        return super.handleCommand(channel, command, query, databaseResolver, oplog);
    }

    static final boolean INDEXED_AGGREGATE =
        !"false".equalsIgnoreCase(System.getProperty("s8.mongo.indexedAggregate"));

    private Document aggregateFromMatch(String command, Document query, DatabaseResolver databaseResolver, Oplog oplog) {
        if (!(query.get(command) instanceof String name) || !(query.get("pipeline") instanceof List)) {
            return null; // the library answers (and reports the error)
        }
        Document match = leadingMatch(query);
        MongoCollection<Object> collection = match == null ? null : resolveCollection(name, false);
        if (collection == null) {
            return null;
        }
        List<Document> pipeline = Aggregation.parse(query.get("pipeline"));
        Aggregation rest = Aggregation.fromPipeline(pipeline.subList(1, pipeline.size()), databaseResolver, this, collection, oplog);
        rest.validate(query);
        List<Document> documents = rest.runStages(collection.handleQueryAsStream(match));
        Document cursor = new Document("id", 0L).append("ns", getFullCollectionNamespace(name)).append("firstBatch", documents);
        return new Document("cursor", cursor).append("ok", 1.0);
    }

    /** The filter of an aggregation's first stage when it is a $match (and this store reads it
     * through the indexes), else null. */
    static Document leadingMatch(Document aggregate) {
        if (!INDEXED_AGGREGATE || !(aggregate.get("pipeline") instanceof List<?> pipeline) || pipeline.isEmpty()
            || !(pipeline.get(0) instanceof Document first) || first.size() != 1) {
            return null;
        }
        return first.get("$match") instanceof Document match ? match : null;
    }

    @Override
    protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                       boolean sparse) {
        if ("false".equalsIgnoreCase(System.getProperty("s8.mongo.secondaryIndexes"))) {
            return super.openOrCreateSecondaryIndex(collectionName, indexName, keys, sparse);
        }
        return new SecondaryIndex(indexName, keys, sparse);
    }

    @Override
    protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                    boolean sparse) {
        return new WideUniqueIndex(super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse), sparse);
    }
}

/** Queries through the most selective index that serves the filter (as shipped: the first one). */
class IndexedH2Collection extends H2Collection {

    static final int SCAN_WARNING_DOCUMENTS = 1000;
    static final Set<String> SCANNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    IndexedH2Collection(MongoDatabase database, String collectionName, CollectionOptions options,
                        MVMap<Object, Document> dataMap, MVMap<String, Object> metaMap, CursorRegistry cursorRegistry) {
        super(database, collectionName, options, dataMap, metaMap, cursorRegistry);
    }

    /** A unique index whose keys the filter fixes, else the secondary index it constrains most. */
    static <P> Index<P> best(List<Index<P>> indexes, Document query) {
        Index<P> chosen = null;
        int chosenScore = 0;
        for (Index<P> index : indexes) {
            int score = index instanceof SecondaryIndex secondary ? secondary.score(query)
                : index.canHandle(query) ? Integer.MAX_VALUE : 0;
            if (score > chosenScore) {
                chosen = index;
                chosenScore = score;
            }
        }
        return chosen;
    }

    @Override
    protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize,
                                         Document fieldSelector) {
        Index<Object> index = best(getIndexes(), query);
        if (index == null) {
            if (!query.isEmpty() && count() >= SCAN_WARNING_DOCUMENTS && SCANNED.add(getFullName() + query.keySet())) {
                // Once per collection and filter shape: a scan that grows with the data is worth knowing.
                System.err.println("collection scan of " + getFullName() + " (" + count() + " documents) for a filter on "
                    + query.keySet() + ": no index serves it");
            }
            return matchDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }
        return matchDocuments(query, index.getPositions(query), orderBy, numberToSkip, limit, batchSize, fieldSelector);
    }
}

/** Index conditions of a filter: equality (`v`, `$eq`, `$in`) on a prefix of the keys, then a range. */
final class IndexConditions {

    static final int MAX_PREFIXES = 256;

    /** The normalized values a condition requires by equality, or null if it is no simple equality. */
    static List<Object> equalities(Object condition) {
        if (condition instanceof Document d) {
            if (d.size() == 1 && d.containsKey("$eq") && isScalar(d.get("$eq"))) {
                return List.of(normalize(d.get("$eq")));
            }
            if (d.size() == 1 && d.get("$in") instanceof Collection<?> values && !values.isEmpty()) {
                List<Object> out = new ArrayList<>();
                for (Object value : values) {
                    if (!isScalar(value)) {
                        return null;
                    }
                    out.add(normalize(value));
                }
                return out;
            }
            return null;
        }
        return isScalar(condition) ? List.of(normalize(condition)) : null;
    }

    /** {low, high} bounds (either may be null) of a range condition, or null if it has none.
     * As in MongoDB, a comparison matches only values of its bound's type (numbers with numbers,
     * dates with dates): a missing bound becomes the least or greatest value of that type where
     * there is one, so that `{at: {$lte: now}}` never reads the documents whose `at` is null.
     * Both bounds come from the same type's ends, never from each other: an array may meet each
     * bound with a different element ([0, 10] matches {$gt: 1, $lt: 5}). */
    static Object[] range(Object condition) {
        if (!(condition instanceof Document d) || BsonRegularExpression.isRegularExpression(d)) {
            return null;
        }
        Object low = null;
        Object high = null;
        for (String op : List.of("$gt", "$gte")) {
            if (d.containsKey(op) && isScalar(d.get(op))) {
                low = normalize(d.get(op));
            }
        }
        for (String op : List.of("$lt", "$lte")) {
            if (d.containsKey(op) && isScalar(d.get(op))) {
                high = normalize(d.get(op));
            }
        }
        if (low == null && high == null) {
            return null;
        }
        if (low != null && high != null) {
            high = greatestOfType(low); // see above: each bound may be met by another element
        }
        return new Object[] {low != null ? low : leastOfType(high), high != null ? high : greatestOfType(low)};
    }

    private static Object leastOfType(Object value) {
        if (value instanceof Number) {
            return Double.NEGATIVE_INFINITY;
        }
        if (value instanceof java.time.Instant) {
            return java.time.Instant.MIN;
        }
        if (value instanceof String) {
            return "";
        }
        return null; // from the start of the index: a superset, re-checked by the filter
    }

    private static Object greatestOfType(Object value) {
        if (value instanceof Number) {
            return Double.POSITIVE_INFINITY;
        }
        if (value instanceof java.time.Instant) {
            return java.time.Instant.MAX;
        }
        return null; // to the end of the index
    }

    static boolean isScalar(Object value) {
        return value != null && !(value instanceof Missing) && !(value instanceof Document) && !(value instanceof Map)
            && !(value instanceof Collection) && !(value instanceof Pattern)
            && !BsonRegularExpression.isRegularExpression(value);
    }

    private static Object normalize(Object value) {
        // The same normalization the indexes apply to document values (numbers compare as doubles).
        return new KeyValue(value).normalized().get(0);
    }

    private IndexConditions() {
    }
}

/** A unique index (H2's, persisted) that also serves a filter with conditions beyond its keys. */
final class WideUniqueIndex extends Index<Object> {

    private final Index<Object> base;

    WideUniqueIndex(Index<Object> base, boolean sparse) {
        super(base.getName(), base.getKeys(), sparse);
        this.base = base;
    }

    private Document onKeys(Document query) {
        Document sub = new Document();
        for (IndexKey key : getKeys()) {
            if (!query.containsKey(key.getKey())) {
                return null;
            }
            sub.put(key.getKey(), query.get(key.getKey()));
        }
        return sub;
    }

    @Override
    public boolean isUnique() {
        return true;
    }

    @Override
    public boolean canHandle(Document query) {
        Document sub = onKeys(query);
        return sub != null && base.canHandle(sub);
    }

    @Override
    public Iterable<Object> getPositions(Document query) {
        return base.getPositions(Objects.requireNonNull(onKeys(query)));
    }

    @Override
    public Object getPosition(Document document) {
        return base.getPosition(document);
    }

    @Override
    public void checkAdd(Document document, MongoCollection<Object> collection) {
        base.checkAdd(document, collection);
    }

    @Override
    public void add(Document document, Object position, MongoCollection<Object> collection) {
        base.add(document, position, collection);
    }

    @Override
    public Object remove(Document document) {
        return base.remove(document);
    }

    @Override
    public long getCount() {
        return base.getCount();
    }

    @Override
    public long getDataSize() {
        return base.getDataSize();
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Object> collection) {
        base.checkUpdate(oldDocument, newDocument, collection);
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, Object position,
                              MongoCollection<Object> collection) throws KeyConstraintError {
        base.updateInPlace(oldDocument, newDocument, position, collection);
    }

    @Override
    public void drop() {
        base.drop();
    }
}

/** A non-unique index kept in memory, ordered as MongoDB orders values; rebuilt when the store opens. */
final class SecondaryIndex extends Index<Object> {

    private static final Comparator<Object> VALUES = ValueComparator.asc();
    private static final Comparator<List<Object>> ORDER = (a, b) -> {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            int c = VALUES.compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    };

    // Key → the position of its one document, or Positions when several share the key (most keys are
    // unique per document: no set for them). No reverse map: removal recomputes the keys from the
    // stored document it is given.
    private final NavigableMap<List<Object>, Object> entries = new TreeMap<>(ORDER);
    private long documents;

    private static final class Positions extends HashSet<Object> {
    }

    SecondaryIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
    }

    private boolean skipped(Document document) {
        return isSparse() && keys().stream().allMatch(k -> Missing.isNullOrMissing(document.get(k)));
    }

    private List<List<Object>> keysOf(Document document) {
        List<List<Object>> out = new ArrayList<>();
        for (KeyValue keyValue : getKeyValues(document)) {
            List<Object> key = new ArrayList<>(keyValue.size());
            keyValue.forEach(key::add);
            out.add(key.size() == 1 ? java.util.Collections.singletonList(key.get(0)) : key);
        }
        return out;
    }

    @Override
    public synchronized Object getPosition(Document document) {
        return null; // not unique: it never identifies a document by itself
    }

    @Override
    public synchronized void checkAdd(Document document, MongoCollection<Object> collection) {
        keysOf(document); // refuses parallel arrays as MongoDB does
    }

    @Override
    public synchronized void add(Document document, Object position, MongoCollection<Object> collection) {
        if (skipped(document)) {
            return;
        }
        for (List<Object> key : keysOf(document)) {
            Object held = entries.get(key);
            if (held == null) {
                entries.put(key, position);
            } else if (held instanceof Positions positions) {
                positions.add(position);
            } else if (!held.equals(position)) {
                Positions positions = new Positions();
                positions.add(held);
                positions.add(position);
                entries.put(key, positions);
            }
        }
        documents++;
    }

    @Override
    public synchronized Object remove(Document document) {
        Object position = document.get("_id"); // H2's position of a document is its _id
        if (skipped(document)) {
            return null;
        }
        boolean found = false;
        for (List<Object> key : keysOf(document)) {
            Object held = entries.get(key);
            if (held instanceof Positions positions) {
                found |= positions.remove(position);
                if (positions.size() == 1) {
                    entries.put(key, positions.iterator().next());
                }
            } else if (held != null && held.equals(position)) {
                entries.remove(key);
                found = true;
            }
        }
        if (found) {
            documents--;
        }
        return position;
    }

    @Override
    public synchronized boolean canHandle(Document query) {
        return plan(query) != null;
    }

    /** How much of the filter this index serves: 0 if nothing, more per key fixed, less for a range. */
    @SuppressWarnings("unchecked")
    synchronized int score(Document query) {
        Object[] plan = plan(query);
        if (plan == null) {
            return 0;
        }
        int fixed = ((List<List<Object>>) plan[0]).get(0).size();
        return 1 + 4 * fixed + (plan[1] != null ? 2 : 0);
    }

    /** Prefixes of equal values, and a range on the next key: {prefixes, low, high}; null if none. */
    private Object[] plan(Document query) {
        List<List<Object>> prefixes = new ArrayList<>();
        prefixes.add(List.of());
        Object[] range = null;
        for (String key : keys()) {
            if (!query.containsKey(key)) {
                break;
            }
            Object condition = query.get(key);
            List<Object> values = IndexConditions.equalities(condition);
            if (values != null && prefixes.size() * values.size() <= IndexConditions.MAX_PREFIXES) {
                List<List<Object>> longer = new ArrayList<>();
                for (List<Object> prefix : prefixes) {
                    for (Object value : values) {
                        List<Object> next = new ArrayList<>(prefix);
                        next.add(value);
                        longer.add(next);
                    }
                }
                prefixes = longer;
                continue;
            }
            range = IndexConditions.range(condition);
            break;
        }
        if (prefixes.get(0).isEmpty() && range == null) {
            return null;
        }
        return new Object[] {prefixes, range};
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized Iterable<Object> getPositions(Document query) {
        Object[] plan = Objects.requireNonNull(plan(query));
        List<List<Object>> prefixes = (List<List<Object>>) plan[0];
        Object[] range = (Object[]) plan[1];
        Set<Object> positions = new LinkedHashSet<>();
        for (List<Object> prefix : prefixes) {
            int k = prefix.size();
            List<Object> start = new ArrayList<>(prefix);
            if (k < keys().size()) {
                start.add(range != null && range[0] != null ? range[0] : MinKey.getInstance());
            }
            Object high = range != null ? range[1] : null;
            for (Map.Entry<List<Object>, Object> entry : entries.tailMap(start, true).entrySet()) {
                List<Object> key = entry.getKey();
                if (ORDER.compare(key.subList(0, k), prefix) != 0) {
                    break;
                }
                if (high != null && VALUES.compare(key.get(k), high) > 0) {
                    break;
                }
                if (entry.getValue() instanceof Positions several) {
                    positions.addAll(several);
                } else {
                    positions.add(entry.getValue());
                }
            }
        }
        return positions;
    }

    @Override
    public synchronized long getCount() {
        return documents;
    }

    @Override
    public long getDataSize() {
        return 0;
    }

    @Override
    public synchronized void checkUpdate(Document oldDocument, Document newDocument,
                                         MongoCollection<Object> collection) {
        keysOf(newDocument);
    }

    @Override
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, Object position,
                                           MongoCollection<Object> collection) {
        if (nullAwareEqualsKeys(oldDocument, newDocument)) {
            return; // most updates (outbox, counters) leave the indexed fields alone
        }
        remove(oldDocument);
        add(newDocument, position, collection);
    }

    @Override
    public synchronized void drop() {
        entries.clear();
        documents = 0;
    }
}
