// Kafka users (SCRAM-SHA-512) and ACLs for the local broker, from a JSON spec, through Kafka's
// Admin API (idempotent: existing users get their password again, existing ACLs stay).
//
//   java -cp '.local/lib/kafka/*' deploy/local/KafkaAccess.java BOOTSTRAP SPEC.json
//
// SPEC: {"users": [{"name": "s8-intake", "password": "..."}],
//        "acls": [{"principal": "User:s8-intake", "resource": "TOPIC", "name": "support.tickets.v1",
//                  "pattern": "LITERAL", "operation": "WRITE"}]}
// deploy/local/kafka_access.py writes the spec from s8's AsyncAPI documents (who produces and
// consumes which topic) and runs this; BOOTSTRAP is the PLAINTEXT listener, whose local
// ANONYMOUS principal is the broker's super user.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAccess {
    private static final int SCRAM_ITERATIONS = 8192;

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: KafkaAccess BOOTSTRAP SPEC.json");
            System.exit(2);
        }
        JsonNode spec = new ObjectMapper().readTree(new File(args[1]));
        List<UserScramCredentialAlteration> users = new ArrayList<>();
        for (JsonNode user : spec.path("users")) {
            users.add(new UserScramCredentialUpsertion(
                user.get("name").asText(),
                new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
                user.get("password").asText()));
        }
        List<AclBinding> acls = new ArrayList<>();
        for (JsonNode acl : spec.path("acls")) {
            acls.add(new AclBinding(
                new ResourcePattern(
                    ResourceType.valueOf(acl.get("resource").asText()),
                    acl.get("name").asText(),
                    PatternType.valueOf(acl.path("pattern").asText("LITERAL"))),
                new AccessControlEntry(
                    acl.get("principal").asText(), "*",
                    AclOperation.valueOf(acl.get("operation").asText()), AclPermissionType.ALLOW)));
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]))) {
            if (!users.isEmpty()) {
                admin.alterUserScramCredentials(users).all().get();
            }
            if (!acls.isEmpty()) {
                admin.createAcls(acls).all().get();
            }
        }
        System.out.println("kafka access: " + users.size() + " users, " + acls.size() + " ACLs");
    }
}
