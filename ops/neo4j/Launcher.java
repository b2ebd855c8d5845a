// Runs Neo4j 5 Community embedded with its Bolt connector, for machines without the standalone
// server distribution (Maven Central does not serve it). Started by ops/services.py as
//   java -cp 'lib/*' Launcher.java <home> <host> <port> <pagecacheMiB>
// The password comes from the NEO4J_PASSWORD environment variable so it never shows in `ps`.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

public class Launcher {
    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            System.err.println("neo4j failed to start: " + e);
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        long pageCacheBytes = Long.parseLong(args[3]) * 1024L * 1024L;
        String password = System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("NEO4J_PASSWORD must be set to at least 8 characters");
            System.exit(2);
        }
        Files.createDirectories(home);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCacheBytes)
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));
        // Embedded transactions run with full rights, so the password is (re)set here on every
        // start: the server always accepts exactly the password in the environment.
        try {
            dbms.database("system").executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            // Neo4j refuses to "change" a password to itself: that is the normal restart case.
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                System.err.println("could not set the neo4j password: " + e.getMessage());
                System.exit(1); // Bolt threads are not daemons: exit, or the JVM would linger
            }
        }
        System.out.println("bangfu-neo4j ready on bolt://" + host + ":" + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
