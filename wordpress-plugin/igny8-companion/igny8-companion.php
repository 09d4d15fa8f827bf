<?php
/**
 * Plugin Name: IGNY8 Companion
 * Description: Lets IGNY8 write SEO meta and its task marker through the REST API, and answers IGNY8's signed status requests.
 * Version: 1.0.0
 * Requires at least: 5.6
 * Requires PHP: 7.4
 * License: GPLv2 or later
 */

if (!defined('ABSPATH')) exit;

const IGNY8_COMPANION_VERSION = '1.0.0';
const IGNY8_SECRET_OPTION = 'igny8_companion_secret';
// Requests older or newer than this many seconds are refused (replays).
const IGNY8_MAX_SKEW = 300;

/** The post meta IGNY8 writes. WordPress ignores unregistered keys in REST writes, silently. */
function igny8_meta_keys() {
    return array(
        'igny8_task_id', 'igny8_meta_title', 'igny8_meta_description', 'igny8_focus_keyword',
        '_yoast_wpseo_title', '_yoast_wpseo_metadesc', '_yoast_wpseo_focuskw',
        'rank_math_title', 'rank_math_description', 'rank_math_focus_keyword',
    );
}

add_action('init', function () {
    foreach (igny8_meta_keys() as $key) {
        register_post_meta('post', $key, array(
            'type' => 'string',
            'single' => true,
            'show_in_rest' => true,
            'auth_callback' => function () { return current_user_can('edit_posts'); },
        ));
    }
});

// WordPress only reports why an application password failed (unknown user, wrong password) when the user is
// determined before its own check at priority 90; otherwise every refusal reads "not logged in". Determining
// it here lets IGNY8's connection test tell a user-name typo from a wrong password from a stripped header.
add_filter('rest_authentication_errors', function ($result) {
    if (empty($result)) wp_get_current_user();
    return $result;
}, 80);

register_activation_hook(__FILE__, function () {
    if (!get_option(IGNY8_SECRET_OPTION)) update_option(IGNY8_SECRET_OPTION, bin2hex(random_bytes(24)), false);
});

function igny8_seo_plugin() {
    if (defined('WPSEO_VERSION')) return 'yoast';
    if (defined('RANK_MATH_VERSION')) return 'rankmath';
    return 'none';
}

// Without an SEO plugin the site still gets the title and description IGNY8 wrote.
add_filter('pre_get_document_title', function ($title) {
    if (igny8_seo_plugin() !== 'none' || !is_singular('post')) return $title;
    $t = get_post_meta(get_queried_object_id(), 'igny8_meta_title', true);
    return $t !== '' ? $t : $title;
});
add_action('wp_head', function () {
    if (igny8_seo_plugin() !== 'none' || !is_singular('post')) return;
    $d = get_post_meta(get_queried_object_id(), 'igny8_meta_description', true);
    if ($d !== '') echo '<meta name="description" content="' . esc_attr($d) . '">' . "\n";
}, 1);

/** HMAC-SHA256 over "timestamp\nMETHOD\n/route", hex, in X-IGNY8-Timestamp and X-IGNY8-Signature. */
function igny8_check_signature(WP_REST_Request $req) {
    $secret = (string) get_option(IGNY8_SECRET_OPTION);
    if ($secret === '') return new WP_Error('igny8_not_configured', 'The IGNY8 companion plugin has no secret yet.', array('status' => 503));
    $ts = (string) $req->get_header('x_igny8_timestamp');
    $sig = (string) $req->get_header('x_igny8_signature');
    if ($ts === '' || $sig === '' || !ctype_digit($ts) || abs(time() - (int) $ts) > IGNY8_MAX_SKEW) {
        return new WP_Error('igny8_bad_signature', 'Missing, stale or malformed IGNY8 signature.', array('status' => 401));
    }
    $expected = hash_hmac('sha256', $ts . "\n" . $req->get_method() . "\n" . $req->get_route(), $secret);
    if (!hash_equals($expected, strtolower($sig))) {
        return new WP_Error('igny8_bad_signature', 'The IGNY8 signature does not match this site\'s secret.', array('status' => 401));
    }
    return true;
}

add_action('rest_api_init', function () {
    register_rest_route('igny8/v1', '/status', array(
        'methods' => 'GET',
        'permission_callback' => 'igny8_check_signature',
        'callback' => function () {
            return array(
                'plugin_version' => IGNY8_COMPANION_VERSION,
                'wp_version' => get_bloginfo('version'),
                'seo_plugin' => igny8_seo_plugin(),
                'meta_keys' => igny8_meta_keys(),
            );
        },
    ));
    // Posts IGNY8 published (they carry igny8_task_id) changed since a time, trashed ones included.
    register_rest_route('igny8/v1', '/pull-updates', array(
        'methods' => 'GET',
        'permission_callback' => 'igny8_check_signature',
        'args' => array('since' => array('type' => 'string', 'default' => '1970-01-01T00:00:00')),
        'callback' => function (WP_REST_Request $req) {
            $q = new WP_Query(array(
                'post_type' => 'post',
                'post_status' => array('publish', 'future', 'draft', 'pending', 'private', 'trash'),
                'posts_per_page' => 500,
                'orderby' => 'modified',
                'order' => 'ASC',
                'meta_key' => 'igny8_task_id',
                'date_query' => array(array('column' => 'post_modified_gmt', 'after' => $req['since'])),
                'no_found_rows' => true,
            ));
            $out = array();
            foreach ($q->posts as $p) {
                $out[] = array(
                    'id' => $p->ID,
                    'task_id' => get_post_meta($p->ID, 'igny8_task_id', true),
                    'status' => $p->post_status,
                    'link' => get_permalink($p),
                    'modified_gmt' => mysql_to_rfc3339($p->post_modified_gmt),
                );
            }
            return array('posts' => $out);
        },
    ));
});

// Settings → IGNY8: the shared secret to paste into IGNY8's site form.
add_action('admin_menu', function () {
    add_options_page('IGNY8', 'IGNY8', 'manage_options', 'igny8-companion', function () {
        if (isset($_POST['igny8_regenerate']) && check_admin_referer('igny8_regenerate')) {
            update_option(IGNY8_SECRET_OPTION, bin2hex(random_bytes(24)), false);
        }
        echo '<div class="wrap"><h1>IGNY8 Companion</h1>';
        echo '<p>Paste this secret into the site\'s form in IGNY8 (Sites → Edit → Companion plugin secret).</p>';
        echo '<p><code>' . esc_html((string) get_option(IGNY8_SECRET_OPTION)) . '</code></p>';
        echo '<form method="post">';
        wp_nonce_field('igny8_regenerate');
        echo '<button class="button" name="igny8_regenerate" value="1">Make a new secret</button> ';
        echo '<span class="description">IGNY8 stops reaching the status endpoints until it has the new one.</span></form></div>';
    });
});
