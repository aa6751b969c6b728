// Command manifest-check decodes rendered Kubernetes manifests (multi-document YAML on
// stdin, as `helm template` prints them) strictly into their API types, so a misspelt or
// misplaced field, or a value of the wrong type, fails with its path instead of being
// dropped silently by the API server. Custom resources of the Prometheus Operator are
// listed but not decoded (their types are not vendored here); Strimzi's KafkaUser decodes
// strictly into the small part of its schema the chart renders (kafkaUser below), its
// required fields and enums checked.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Kinds s8's chart renders, by apiVersion/kind.
func newObject(apiVersion, kind string) any {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/Secret":
		return &corev1.Secret{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}
	case "batch/v1/Job":
		return &batchv1.Job{}
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "rbac.authorization.k8s.io/v1/Role":
		return &rbacv1.Role{}
	case "rbac.authorization.k8s.io/v1/RoleBinding":
		return &rbacv1.RoleBinding{}
	case "kafka.strimzi.io/v1beta2/KafkaUser":
		return &kafkaUser{}
	}
	return nil
}

// kafkaUser is the part of Strimzi's KafkaUser (kafka.strimzi.io/v1beta2) the chart renders:
// SCRAM-SHA-512 or TLS authentication, simple authorization with ACL rules. A field outside it
// (or one of v1beta1's, like an ACL rule's singular `operation`) fails the strict decoding.
type kafkaUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Authentication *struct {
			Type string `json:"type"`
		} `json:"authentication"`
		Authorization *struct {
			Type string    `json:"type"`
			ACLs []aclRule `json:"acls"`
		} `json:"authorization"`
	} `json:"spec"`
}

type aclRule struct {
	Resource struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		PatternType string `json:"patternType"`
	} `json:"resource"`
	Operations []string `json:"operations"`
	Host       string   `json:"host"`
	Type       string   `json:"type"` // allow (default) or deny
}

var (
	kafkaUserAuthentications = set("tls", "tls-external", "scram-sha-512")
	aclResourceTypes         = set("topic", "group", "cluster", "transactionalId")
	aclPatternTypes          = set("", "literal", "prefix")
	aclOperations            = set("Read", "Write", "Create", "Delete", "Alter", "Describe",
		"ClusterAction", "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All")
	aclTypes = set("", "allow", "deny")
)

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// validate checks what the KafkaUser CRD's schema requires beyond the field names and types.
func (u *kafkaUser) validate() error {
	var problems []error
	if u.Name == "" {
		problems = append(problems, errors.New("metadata.name is required"))
	}
	if u.Labels["strimzi.io/cluster"] == "" {
		problems = append(problems, errors.New("metadata.labels.strimzi.io/cluster is required (the User Operator ignores the user without it)"))
	}
	if a := u.Spec.Authentication; a != nil && !kafkaUserAuthentications[a.Type] {
		problems = append(problems, fmt.Errorf("spec.authentication.type %q is not one of tls, tls-external, scram-sha-512", a.Type))
	}
	if z := u.Spec.Authorization; z != nil {
		if z.Type != "simple" {
			problems = append(problems, fmt.Errorf("spec.authorization.type %q: only simple is rendered", z.Type))
		}
		for i, rule := range z.ACLs {
			at := fmt.Sprintf("spec.authorization.acls[%d]", i)
			r := rule.Resource
			if !aclResourceTypes[r.Type] {
				problems = append(problems, fmt.Errorf("%s.resource.type %q is not one of topic, group, cluster, transactionalId", at, r.Type))
			}
			if r.Type != "cluster" && r.Name == "" {
				problems = append(problems, fmt.Errorf("%s.resource.name is required for a %s", at, r.Type))
			}
			if !aclPatternTypes[r.PatternType] {
				problems = append(problems, fmt.Errorf("%s.resource.patternType %q is not literal or prefix", at, r.PatternType))
			}
			if len(rule.Operations) == 0 {
				problems = append(problems, fmt.Errorf("%s.operations is required", at))
			}
			for _, op := range rule.Operations {
				if !aclOperations[op] {
					problems = append(problems, fmt.Errorf("%s.operations: %q is not a Kafka ACL operation (Read, Write, Describe, ...)", at, op))
				}
			}
			if !aclTypes[rule.Type] {
				problems = append(problems, fmt.Errorf("%s.type %q is not allow or deny", at, rule.Type))
			}
		}
	}
	return errors.Join(problems...)
}

var customResources = map[string]bool{
	"monitoring.coreos.com/v1/ServiceMonitor": true,
	"monitoring.coreos.com/v1/PrometheusRule": true,
}

func check(in io.Reader, out io.Writer) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	var problems []error
	checked := 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading YAML: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			problems = append(problems, fmt.Errorf("not a Kubernetes object: %w", err))
			continue
		}
		if meta.Kind == "" && meta.APIVersion == "" {
			continue // a document of comments only
		}
		id := fmt.Sprintf("%s/%s %s", meta.APIVersion, meta.Kind, meta.Metadata.Name)
		if customResources[meta.APIVersion+"/"+meta.Kind] {
			fmt.Fprintf(out, "skipped (custom resource) %s\n", id)
			continue
		}
		obj := newObject(meta.APIVersion, meta.Kind)
		if obj == nil {
			problems = append(problems, fmt.Errorf("%s: kind not known to this check", id))
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", id, err))
			continue
		}
		if v, ok := obj.(interface{ validate() error }); ok {
			if err := v.validate(); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", id, err))
				continue
			}
		}
		checked++
		fmt.Fprintf(out, "ok %s\n", id)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	if checked == 0 {
		return errors.New("no Kubernetes objects on stdin")
	}
	return nil
}

func main() {
	if err := check(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
