package config

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// checkServiceBusConnection applies the rules azservicebus applies to a
// connection string when it builds its client, so that a bad one stops the
// process at start-up with the others. Errors name keys, never values.
func checkServiceBusConnection(conn string) error {
	keys := map[string]string{}
	for _, part := range strings.Split(conn, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return errors.New("it is not a connection string: every part must be Key=Value")
		}
		keys[strings.ToLower(strings.TrimSpace(k))] = v
	}
	endpoint, ok := keys["endpoint"]
	if !ok {
		return errors.New("it has no Endpoint= (sb://<namespace>.servicebus.windows.net/)")
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return errors.New("its Endpoint must look like sb://<namespace>.servicebus.windows.net/")
	}
	_, hasSAS := keys["sharedaccesssignature"]
	_, hasKeyName := keys["sharedaccesskeyname"]
	_, hasKey := keys["sharedaccesskey"]
	if !hasSAS && !(hasKeyName && hasKey) {
		return errors.New("it needs SharedAccessKeyName and SharedAccessKey, or SharedAccessSignature")
	}
	if v, ok := keys["usedevelopmentemulator"]; ok {
		if _, err := strconv.ParseBool(v); err != nil {
			return errors.New("its UseDevelopmentEmulator must be true or false")
		}
	}
	return nil
}
