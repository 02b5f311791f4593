// A bearer token on every call: a Kiln API token or an OIDC token, for a registry with authentication on.
package kiln

import (
	"context"

	"google.golang.org/grpc"
)

// WithToken is the Dial option that sends token as "authorization: Bearer <token>" with every call (per-call
// credentials). It is sent over plaintext too, as the kiln CLI sends it to a registry on loopback; anywhere else,
// dial with WithTLS as well or the token travels in the clear. A missing, expired or revoked token fails calls with
// ErrUnauthenticated, one without the role a call needs with ErrPermissionDenied.
func WithToken(token string) grpc.DialOption {
	return grpc.WithPerRPCCredentials(bearer{header: map[string]string{"authorization": "Bearer " + token}})
}

type bearer struct{ header map[string]string }

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return b.header, nil
}

// RequireTransportSecurity is false so the token also reaches a plaintext registry on loopback (see WithToken).
func (bearer) RequireTransportSecurity() bool { return false }
