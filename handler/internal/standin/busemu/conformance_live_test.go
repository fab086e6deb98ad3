package busemu

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus/admin"

	"github.com/snapcopy/snapcopy/handler/internal/config"
)

// Settings of the live half. The namespace needs, besides the connection
// string (with SharedAccessKey), a queue with duplicate detection and a
// topic with an unfiltered subscription and one filtered on Subject = "keep"
// (the retention subscription is set up when the key can manage); the
// scenarios empty them first, so never point them at production entities.
const (
	envLiveConnStr     = "SNAPCOPY_LIVE_SERVICEBUS_CONNECTION_STRING"
	envLiveQueue       = "SNAPCOPY_LIVE_SERVICEBUS_QUEUE"              // default "conformance"
	envLiveMaxDelivery = "SNAPCOPY_LIVE_SERVICEBUS_MAX_DELIVERY_COUNT" // default 10
	envLiveTopic       = "SNAPCOPY_LIVE_SERVICEBUS_TOPIC"              // default "conformance-events"
	envLiveSubAll      = "SNAPCOPY_LIVE_SERVICEBUS_SUBSCRIPTION"       // default "all"
	envLiveSubKeep     = "SNAPCOPY_LIVE_SERVICEBUS_FILTERED_SUBSCRIPTION"
	// A subscription of the topic admitting only Completed events; created
	// (or given its rule) with the admin API when the key has Manage rights.
	envLiveRetention = "SNAPCOPY_LIVE_SERVICEBUS_RETENTION_SUBSCRIPTION" // default "retention"
)

var sharedAccessKey = regexp.MustCompile(`(?i)(SharedAccessKey=)[^;]*`)

func TestConformanceLive(t *testing.T) {
	connStr := os.Getenv(envLiveConnStr)
	if connStr == "" {
		t.Skipf("%s not set", envLiveConnStr)
	}
	maxDelivery := 10
	if v := os.Getenv(envLiveMaxDelivery); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s: %v", envLiveMaxDelivery, err)
		}
		maxDelivery = n
	}
	wrongKey := ""
	if sharedAccessKey.MatchString(connStr) {
		wrongKey = sharedAccessKey.ReplaceAllString(connStr, "${1}bm90LXRoZS1rZXk=")
	}
	tg := conformanceTarget{
		connStr: connStr, queue: envOr(envLiveQueue, "conformance"), maxDelivery: maxDelivery,
		topic: envOr(envLiveTopic, "conformance-events"), subAll: envOr(envLiveSubAll, "all"), subKeep: os.Getenv(envLiveSubKeep),
		now: func() time.Time { return time.Now().UTC() }, wrongKeyConnStr: wrongKey,
	}
	tg.retentionTopic = tg.topic
	tg.retentionSub = liveRetentionSubscription(t, connStr, tg.topic, envOr(envLiveRetention, "retention"))
	runConformance(t, func(t *testing.T) conformanceTarget {
		tg := tg
		tg.ids = fmt.Sprintf("%s-%d-", t.Name(), time.Now().UnixNano())
		drainLive(t, tg)
		return tg
	})
}

// drainLive empties the live entities so leftovers of earlier runs cannot
// satisfy or upset a scenario.
func drainLive(t *testing.T, tg conformanceTarget) {
	c := newClient(t, tg.connStr)
	opts := func(sq azservicebus.SubQueue) *azservicebus.ReceiverOptions {
		return &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete, SubQueue: sq}
	}
	var receivers []*azservicebus.Receiver
	for _, sq := range []azservicebus.SubQueue{0 /* the entity itself */, azservicebus.SubQueueDeadLetter} {
		if r, err := c.NewReceiverForQueue(tg.queue, opts(sq)); err == nil {
			receivers = append(receivers, r)
		}
		for _, sub := range []string{tg.subAll, tg.subKeep, tg.retentionSub} {
			if sub == "" {
				continue
			}
			if r, err := c.NewReceiverForSubscription(tg.topic, sub, opts(sq)); err == nil {
				receivers = append(receivers, r)
			}
		}
	}
	for _, r := range receivers {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			msgs, _ := r.ReceiveMessages(ctx, 100, nil)
			cancel()
			if len(msgs) == 0 {
				break
			}
		}
	}
}

// liveRetentionSubscription makes sure topic has subscription name whose
// only rule is the correlation filter CompletedFilter gives: created with
// it as the default rule (which replaces $Default), or given that rule
// with $Default removed. It returns "" (the scenario then skips) when the
// connection string's key lacks the Manage right this needs.
func liveRetentionSubscription(t *testing.T, connStr, topic, name string) string {
	ac, err := admin.NewClientFromConnectionString(connStr, nil)
	if err != nil {
		t.Logf("no admin client, the retention scenario will skip: %v", err)
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	filter := CompletedFilter(config.DefaultEventTypePrefix)
	rule := admin.RuleProperties{Name: "completed-only", Filter: &admin.CorrelationFilter{Subject: &filter.Subject}}
	if err := ensureOnlyRule(ctx, ac, topic, name, rule); err != nil {
		t.Logf("cannot set up %s/Subscriptions/%s, the retention scenario will skip: %v", topic, name, err)
		return ""
	}
	return name
}

func ensureOnlyRule(ctx context.Context, ac *admin.Client, topic, name string, rule admin.RuleProperties) error {
	sub, err := ac.GetSubscription(ctx, topic, name, nil)
	if err != nil {
		return err
	}
	if sub == nil {
		_, err := ac.CreateSubscription(ctx, topic, name, &admin.CreateSubscriptionOptions{
			Properties: &admin.SubscriptionProperties{DefaultRule: &rule}})
		return err
	}
	found := false
	for pager := ac.NewListRulesPager(topic, name, nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.Rules {
			if r.Name == rule.Name {
				found = true
				continue
			}
			if _, err := ac.DeleteRule(ctx, topic, name, r.Name, nil); err != nil {
				return err
			}
		}
	}
	if found {
		_, err = ac.UpdateRule(ctx, topic, name, rule)
	} else {
		_, err = ac.CreateRule(ctx, topic, name, &admin.CreateRuleOptions{Name: &rule.Name, Filter: rule.Filter})
	}
	return err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
