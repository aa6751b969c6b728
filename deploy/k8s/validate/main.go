// Command manifest-check decodes rendered Kubernetes manifests (multi-document YAML on
// stdin, as `helm template` prints them) strictly into their API types, so a misspelt or
// misplaced field, or a value of the wrong type, fails with its path instead of being
// dropped silently by the API server. Custom resources of the Prometheus Operator are
// listed but not decoded (their types are not vendored here).
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
	}
	return nil
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
