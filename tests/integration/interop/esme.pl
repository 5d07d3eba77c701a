#!/usr/bin/perl
# esme.pl -- Net::SMPP (Debian libnet-smpp-perl) in the ESME role, for
# test_interop.py: an echo service bound to smsc-sim.
#
#   esme.pl --port N --expect N [--system-id ID] [--password PW]
#           [--timeout S] [--trace]
#
# Binds as transceiver to 127.0.0.1:N. For every MO (deliver_sm or data_sm,
# concatenated parts reassembled) it sends the resp (ROK), then a submit_sm
# from the MO's destination to its source with "echo:" + the MO text: data
# coding 0 when the text is plain ASCII, else UCS-2 (dc 8). Every
# submit_sm_resp must be ROK. After --expect MOs have been echoed and
# acknowledged it unbinds (the SMSC may also have closed by then).
# Output: "OK ...", "MO ...", "ECHO ...", "RECV ..." lines, "DONE" at the
# end, or "FAIL <reason>". Exit 0 only after DONE. Every wait is bounded.
use strict;
use warnings;
use utf8;
use FindBin;
use Getopt::Long;
use Encode ();
use Time::HiRes ();
use Net::SMPP;

require "$FindBin::Bin/smpp_common.pl";

my ($port, $expect, $system_id, $password, $timeout, $trace) =
    (undef, undef, 'shortcoded', 'secret', 40, 0);
GetOptions('port=i' => \$port, 'expect=i' => \$expect, 'system-id=s' => \$system_id,
           'password=s' => \$password, 'timeout=i' => \$timeout, 'trace' => \$trace)
    or die "usage: esme.pl --port N --expect N [--system-id ID] [--password PW]\n";
die "--port and --expect are required\n" unless defined $port && defined $expect;
set_deadline($timeout);
$Net::SMPP::trace = $trace;
$SIG{__DIE__} = sub { return if $^S; fail("died: $_[0]") };

my $IDLE_S = 15;    # longest silence accepted while MOs are still expected

# new_connect only connects (bounded by its timeout); binding in async mode
# lets us bound the wait for bind_transceiver_resp ourselves.
my $s = Net::SMPP->new_connect('127.0.0.1', port => $port, timeout => 5, async => 1,
                               system_id => $system_id, password => $password)
    or fail("connect to 127.0.0.1:$port: $!");
set_socket_opts($s, 5);
out("CONNECTED 127.0.0.1:$port");

{
    my $seq = $s->bind_transceiver() // fail("bind_transceiver not sent: $!");
    my ($pdu, $err) = next_pdu($s, 10);
    fail("no bind_transceiver_resp ($err)") unless $pdu;
    fail('got ' . cmd_name($pdu->{cmd}) . ' instead of bind_transceiver_resp')
        unless $pdu->{cmd} == Net::SMPP::CMD_bind_transceiver_resp;
    fail("bind_transceiver_resp seq $pdu->{seq}, expected $seq") unless $pdu->{seq} == $seq;
    fail(sprintf('bind refused: status 0x%x', $pdu->{status})) if $pdu->{status};
    out("OK bind smsc_system_id=$pdu->{system_id}");
}

my %outstanding;    # submit_sm seq -> label
my ($echoed, $acked, $n_mo) = (0, 0, 0);

sub echo {
    my ($kind, $pdu, $text, $parts, $dc, $how) = @_;
    $n_mo++;
    out(sprintf('MO %d kind=%s parts=%d how=%s src=%d/%d/%s dst=%d/%d/%s dc=%d text=%s', $n_mo,
                $kind, $parts, $how,
                $pdu->{source_addr_ton}, $pdu->{source_addr_npi}, $pdu->{source_addr},
                $pdu->{dest_addr_ton}, $pdu->{dest_addr_npi}, $pdu->{destination_addr},
                $dc, $text));
    my $reply = "echo:$text";
    my ($rdc, $bytes) =
        gsm_ascii_safe($reply) ? (0, $reply) : (8, Encode::encode('UTF-16BE', $reply));
    fail('echo too long for one SMS: ' . length($bytes) . ' bytes') if length($bytes) > 140;
    my $seq = $s->submit_sm(source_addr_ton => $pdu->{dest_addr_ton},
                            source_addr_npi => $pdu->{dest_addr_npi},
                            source_addr => $pdu->{destination_addr},
                            dest_addr_ton => $pdu->{source_addr_ton},
                            dest_addr_npi => $pdu->{source_addr_npi},
                            destination_addr => $pdu->{source_addr},
                            data_coding => $rdc, short_message => $bytes)
        // fail("submit_sm not sent: $!");
    $outstanding{$seq} = $n_mo;
    $echoed++;
    out(sprintf('ECHO %d seq=%u to=%s dc=%d hex=%s text=%s', $n_mo, $seq, $pdu->{source_addr}, $rdc,
                hex_of($bytes), $reply));
}

my $unbound_by_smsc = 0;
while ($acked < $expect) {
    my ($pdu, $err) = next_pdu($s, $IDLE_S);
    fail("waiting for MO $echoed/$expect, acked $acked: $err") unless $pdu;
    my $cmd = $pdu->{cmd};
    if ($cmd == Net::SMPP::CMD_deliver_sm) {
        if ($pdu->{esm_class} & 0x3C) {
            $s->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
            out(sprintf('INFO receipt esm_class=0x%02x acknowledged', $pdu->{esm_class}));
            next;
        }
        $s->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
        my ($text, @how) = reasm_add($pdu);
        echo('deliver_sm', $pdu, $text, @how) if defined $text;
    } elsif ($cmd == Net::SMPP::CMD_data_sm) {
        $s->data_sm_resp(seq => $pdu->{seq}, message_id => "netsmpp-mo-$pdu->{seq}");
        # data_sm carries its text in message_payload; sm_part() reads it.
        $pdu->{short_message} = '';
        my ($text, @how) = reasm_add($pdu);
        echo('data_sm', $pdu, $text, @how) if defined $text;
    } elsif ($cmd == Net::SMPP::CMD_submit_sm_resp) {
        my $n = delete $outstanding{$pdu->{seq}};
        fail("submit_sm_resp with unknown seq $pdu->{seq}") unless defined $n;
        fail(sprintf('submit_sm_resp for echo %d: status 0x%x (%s)', $n, $pdu->{status},
                     $pdu->explain_status)) if $pdu->{status};
        $acked++;
        out("OK submit_sm_resp echo=$n seq=$pdu->{seq} message_id=$pdu->{message_id}");
    } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
        $s->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_unbind) {
        $s->unbind_resp(seq => $pdu->{seq});
        fail("SMSC unbound after $acked of $expect echoes were acknowledged");
    } else {
        fail(sprintf('unexpected %s seq=%u status=0x%x body=%s', cmd_name($cmd), $pdu->{seq},
                     $pdu->{status}, hex_of($pdu->{data})));
    }
}
fail(reasm_pending() . ' MO(s) left incomplete') if reasm_pending();
out("OK echoed $acked");

# The simulator may end its script (unbind, then close) as soon as the last
# echo matched: an unbind_resp, its own unbind crossing ours, or that close
# all end the session cleanly.
{
    my $seq = $s->unbind();
    my $until = Time::HiRes::time() + 5;
    while (1) {
        my ($pdu, $err) = next_pdu($s, $until - Time::HiRes::time());
        if (!$pdu) {
            fail("no unbind_resp ($err)") if $err eq 'timeout';
            out("OK smsc_closed_before_unbind_resp ($err)");
            last;
        }
        if ($pdu->{cmd} == Net::SMPP::CMD_unbind_resp && $pdu->{seq} == $seq) {
            fail(sprintf('unbind_resp status 0x%x', $pdu->{status})) if $pdu->{status};
            out('OK unbind');
            last;
        }
        if ($pdu->{cmd} == Net::SMPP::CMD_enquire_link) {
            $s->enquire_link_resp(seq => $pdu->{seq});
            next;
        }
        if ($pdu->{cmd} == Net::SMPP::CMD_unbind) {
            $s->unbind_resp(seq => $pdu->{seq});
            out('OK unbind_crossed');
            last;
        }
        fail('after the last echo: unexpected ' . cmd_name($pdu->{cmd}));
    }
}
close($s);
out('DONE');
exit 0;
